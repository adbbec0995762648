import { createHash } from 'node:crypto';
import type { EvidenceLog } from '../controls/outcome.ts';

/**
 * What the object-store adapters (S3, and the local folder) record when a control reads or
 * fingerprints a customer input, and the streamed SHA-256 both compute: one definition, so a local
 * run's evidence has exactly the entries a deployed run's has.
 */
export function recordObjectRead(evidence: EvidenceLog, uri: string, body: Buffer): void {
  evidence.add({
    kind: 'object',
    label: `read ${uri}`,
    key: uri,
    sha256: createHash('sha256').update(body).digest('hex'),
    at: new Date().toISOString(),
  });
}

/** Hashes a body as it streams (attestation uploads may be large); read errors propagate. */
export async function streamedSha256(
  chunks: AsyncIterable<unknown>,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of chunks) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    hash.update(buffer);
  }
  return { sha256: hash.digest('hex'), size };
}

export function recordObjectFingerprint(evidence: EvidenceLog, uri: string, sha256: string): void {
  evidence.add({
    kind: 'object',
    label: `fingerprint ${uri}`,
    key: uri,
    sha256,
    at: new Date().toISOString(),
  });
}
