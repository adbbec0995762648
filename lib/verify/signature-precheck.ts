import { type KeyObject, verify } from 'node:crypto';
import { parseEvidenceKey } from '../evidence/evidence-layout.ts';
import { parsePublicKey, publicKeyInfo } from '../evidence/signer.ts';
import type { ArchiveFile } from './archive-file.ts';

/** Identifies one signature check: which key, which manifest bytes, which signature. */
export function signatureCheckKey(fingerprint: string, manifestSha256: string, signature: string): string {
  return `${fingerprint}:${manifestSha256}:${signature}`;
}

const FINGERPRINT_FIELD = /"keyFingerprint":"([0-9a-f]{64})"/;

/**
 * Starts each manifest's ECDSA check on the thread pool as soon as the reader has its manifest,
 * signature and public key, so signatures verify on the other cores while files are still being
 * read and hashed. Only a cache: `verifyArchive` decides, and checks anything missing itself.
 */
export class SignaturePrecheck {
  readonly #keys = new Map<string, KeyObject>();
  readonly #manifests = new Map<string, ArchiveFile>();
  readonly #signatures = new Map<string, ArchiveFile>();
  readonly #results = new Map<string, boolean>();
  readonly #pending: Promise<void>[] = [];

  onFile(file: ArchiveFile): void {
    if (!file.content) return;
    const location = parseEvidenceKey(file.path);
    if (location?.kind === 'public-key') {
      try {
        const key = parsePublicKey(file.content.toString('utf8'));
        if (publicKeyInfo(key).fingerprint === location.fingerprint)
          this.#keys.set(location.fingerprint, key);
      } catch {
        // verifyArchive reports it.
      }
      return;
    }
    if (location?.kind !== 'run-file') return;
    // Files may arrive in any order (several workers read them): pair each manifest with its signature.
    if (location.file === 'manifest.json') this.#manifests.set(location.runPrefix, file);
    else if (location.file === 'manifest.sig') this.#signatures.set(location.runPrefix, file);
    else return;
    const manifest = this.#manifests.get(location.runPrefix);
    const signatureFile = this.#signatures.get(location.runPrefix);
    if (!manifest || !signatureFile) return;
    this.#manifests.delete(location.runPrefix);
    this.#signatures.delete(location.runPrefix);
    const fingerprint = manifest.content?.toString('latin1').match(FINGERPRINT_FIELD)?.[1];
    const key = fingerprint ? this.#keys.get(fingerprint) : undefined;
    if (!manifest.content || !signatureFile.content || !fingerprint || !key) return;
    const signature = signatureFile.content.toString('utf8').trim();
    const id = signatureCheckKey(fingerprint, manifest.sha256, signature);
    this.#pending.push(
      new Promise<void>((resolve) => {
        verify(
          'sha256',
          manifest.content as Buffer,
          { key, dsaEncoding: 'der' },
          Buffer.from(signature, 'base64'),
          (error, ok) => {
            this.#results.set(id, !error && ok);
            resolve();
          },
        );
      }),
    );
  }

  async results(): Promise<ReadonlyMap<string, boolean>> {
    await Promise.all(this.#pending);
    return this.#results;
  }
}
