/**
 * What a chain is for. `scheduled`: the control's own runs, one cadence, a manifest owed for every
 * period. `events`: runs triggered from outside (the AWS Backup restore validator), keyed by the day
 * they happened, chained separately so they never mix cadences with the scheduled chain and are not
 * expected for every period.
 */
export type ChainKind = 'scheduled' | 'events';
export const CHAIN_KINDS: readonly ChainKind[] = ['scheduled', 'events'];

/**
 * The newest manifest of one control's evidence chain. Each manifest embeds its predecessor's hash
 * and signature, so the head is all a writer needs to extend the chain.
 */
export interface ChainHead {
  readonly controlId: string;
  /** Absent for the scheduled chain (heads written before chain kinds existed have none). */
  readonly chainKind?: 'events';
  /** 1 for the control's first manifest, then +1 per run. */
  readonly sequence: number;
  readonly manifestKey: string;
  readonly manifestSha256: string;
  /** Base64 DER signature of that manifest. */
  readonly signature: string;
  readonly cadence: string;
  readonly periodKey: string;
  readonly collectedAt: string;
  /**
   * The manifest's exact bytes (canonical JSON), kept with the head: the head advances *before* the
   * manifest and its signature are written, so a writer that finds a head whose objects are missing
   * (a crash in between) writes them from here first. Absent on heads written before this scheme.
   */
  readonly manifest?: string;
}

/** Where chain heads live (DynamoDB in AWS and locally; memory in benchmarks and pure tests). */
export interface ChainHeadStore {
  read(controlId: string, kind?: ChainKind): Promise<ChainHead | undefined>;
  /**
   * Moves the head to `next` only if it is still at `expectedSequence` (0: no head yet); otherwise
   * throws {@link ChainConflictError} and changes nothing.
   */
  advance(next: ChainHead, expectedSequence: number): Promise<void>;
}

/** Another run extended the chain first; this run wrote no manifest and the job should retry. */
export class ChainConflictError extends Error {
  override name = 'ChainConflictError';
}

export function chainKindOf(head: Pick<ChainHead, 'chainKind'>): ChainKind {
  return head.chainKind ?? 'scheduled';
}

/** In-process heads: for benchmarks and single-process tools, never for the deployed runner. */
export function makeMemoryChainHeads(): ChainHeadStore {
  const heads = new Map<string, ChainHead>();
  const id = (controlId: string, kind: ChainKind) => `${controlId}\u0000${kind}`;
  return {
    async read(controlId, kind = 'scheduled') {
      return heads.get(id(controlId, kind));
    },
    async advance(next, expectedSequence) {
      const key = id(next.controlId, chainKindOf(next));
      const current = heads.get(key)?.sequence ?? 0;
      if (current !== expectedSequence) {
        throw new ChainConflictError(
          `chain of ${next.controlId} is at ${current}, expected ${expectedSequence}`,
        );
      }
      heads.set(key, next);
    },
  };
}
