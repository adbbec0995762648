/**
 * The newest manifest of one control's evidence chain. Each manifest embeds its predecessor's hash
 * and signature, so the head is all a writer needs to extend the chain.
 */
export interface ChainHead {
  readonly controlId: string;
  /** 1 for the control's first manifest, then +1 per run. */
  readonly sequence: number;
  readonly manifestKey: string;
  readonly manifestSha256: string;
  /** Base64 DER signature of that manifest. */
  readonly signature: string;
  readonly cadence: string;
  readonly periodKey: string;
  readonly collectedAt: string;
}

/** Where chain heads live (DynamoDB in AWS and locally; memory in benchmarks). */
export interface ChainHeadStore {
  read(controlId: string): Promise<ChainHead | undefined>;
  /**
   * Moves the head to `next` only if it is still at `expectedSequence` (0: no head yet); otherwise
   * throws {@link ChainConflictError} and changes nothing.
   */
  advance(next: ChainHead, expectedSequence: number): Promise<void>;
}

/** Another run extended the chain first; this run's manifest is an orphan and the job should retry. */
export class ChainConflictError extends Error {
  override name = 'ChainConflictError';
}

/** In-process heads: for benchmarks and single-process tools, never for the deployed runner. */
export function makeMemoryChainHeads(): ChainHeadStore {
  const heads = new Map<string, ChainHead>();
  return {
    async read(controlId) {
      return heads.get(controlId);
    },
    async advance(next, expectedSequence) {
      const current = heads.get(next.controlId)?.sequence ?? 0;
      if (current !== expectedSequence) {
        throw new ChainConflictError(
          `chain of ${next.controlId} is at ${current}, expected ${expectedSequence}`,
        );
      }
      heads.set(next.controlId, next);
    },
  };
}
