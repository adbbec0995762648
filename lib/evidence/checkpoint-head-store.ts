/**
 * Where the checkpoint head lives, and how a lost race on it fails. Its own module, apart from
 * `write-checkpoint.ts`, so the DynamoDB adapter that also serves the runners' chain heads does not
 * pull the checkpoint writer (and its zod schemas, built at import) into the worker's cold start.
 */

/** The newest checkpoint, with its stored bytes so a crash before the object was written can be repaired. */
export interface CheckpointHead {
  readonly sequence: number;
  readonly key: string;
  readonly sha256: string;
  /** The whole stored object (checkpoint and signature), as written. */
  readonly body: string;
}

/** Where the checkpoint head lives (DynamoDB in AWS and locally; memory in tests). */
export interface CheckpointHeadStore {
  read(): Promise<CheckpointHead | undefined>;
  /** Moves the head only if it is still at `expectedSequence` (0: none yet); else throws. */
  advance(next: CheckpointHead, expectedSequence: number): Promise<void>;
}

export class CheckpointConflictError extends Error {
  override name = 'CheckpointConflictError';
}
