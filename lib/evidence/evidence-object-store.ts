/**
 * Write-once object storage for evidence (S3 with `If-None-Match: *` under Object Lock in AWS;
 * memory in pure tests). Idempotent by content: writing the same bytes again is success, which is
 * what makes a retry after a crash (or an SDK retry of a write that did land) safe.
 */
export interface EvidenceObjectStore {
  /**
   * Stores `body` at `key` unless an object is there. Resolves with the body's SHA-256 when the key
   * now holds exactly these bytes (written now or earlier); throws {@link EvidenceConflictError}
   * when it holds other bytes.
   */
  putOnce(key: string, body: Uint8Array, contentType: string): Promise<string>;
}

/** The key already holds different bytes: evidence is never overwritten. */
export class EvidenceConflictError extends Error {
  override name = 'EvidenceConflictError';
}
