import type { KeyObject } from 'node:crypto';
import { parseEvidenceKey } from '../evidence/evidence-layout.ts';
import { parsePublicKey, publicKeyInfo } from '../evidence/signer.ts';
import type { ArchiveFile } from './archive-file.ts';
import type { HashPool } from './hash-pool.ts';

/** Identifies one signature check: which key, which manifest bytes, which signature. */
export function signatureCheckKey(fingerprint: string, manifestSha256: string, signature: string): string {
  return `${fingerprint}:${manifestSha256}:${signature}`;
}

const FINGERPRINT_FIELD = /"keyFingerprint":"([0-9a-f]{64})"/;

/** Manifests per batch handed to a worker: one message per batch, not per signature. */
const BATCH_SIGNATURES = 128;

interface Pair {
  readonly id: string;
  readonly fingerprint: string;
  readonly manifest: Buffer;
  readonly signature: string;
}

/**
 * Checks each manifest's ECDSA signature on the worker threads, in batches, as soon as the reader
 * has its manifest, signature and public key, so signatures verify on the other cores while files
 * are still being read and hashed. Only a cache: `verifyArchive` decides, and checks anything not
 * here itself. A batch the workers could not finish (a worker died) fails {@link results}: verify
 * then fails rather than pass on checks that never ran.
 */
export class SignaturePrecheck {
  readonly #pool: HashPool;
  readonly #keys = new Map<string, KeyObject>();
  readonly #manifests = new Map<string, ArchiveFile>();
  readonly #signatures = new Map<string, ArchiveFile>();
  /** Pairs whose key has not been read yet, by fingerprint. */
  readonly #awaitingKey = new Map<string, Pair[]>();
  readonly #results = new Map<string, boolean>();
  readonly #pending: Promise<void>[] = [];
  #batch: Pair[] = [];
  #batchBytes = 0;

  constructor(pool: HashPool) {
    this.#pool = pool;
  }

  onFile(file: ArchiveFile): void {
    if (!file.content) return;
    const location = parseEvidenceKey(file.path);
    if (location?.kind === 'public-key') {
      try {
        const key = parsePublicKey(file.content.toString('utf8'));
        if (publicKeyInfo(key).fingerprint === location.fingerprint) {
          this.#keys.set(location.fingerprint, key);
          for (const pair of this.#awaitingKey.get(location.fingerprint) ?? []) this.#add(pair);
          this.#awaitingKey.delete(location.fingerprint);
        }
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
    if (!manifest?.content || !signatureFile?.content) return;
    this.#manifests.delete(location.runPrefix);
    this.#signatures.delete(location.runPrefix);
    const fingerprint = manifest.content.toString('latin1').match(FINGERPRINT_FIELD)?.[1];
    if (!fingerprint) return;
    const signature = signatureFile.content.toString('utf8').trim();
    const pair: Pair = {
      id: signatureCheckKey(fingerprint, manifest.sha256, signature),
      fingerprint,
      manifest: manifest.content,
      signature,
    };
    if (this.#keys.has(fingerprint)) this.#add(pair);
    else {
      const waiting = this.#awaitingKey.get(fingerprint) ?? [];
      waiting.push(pair);
      this.#awaitingKey.set(fingerprint, waiting);
    }
  }

  #add(pair: Pair): void {
    this.#batch.push(pair);
    this.#batchBytes += pair.manifest.length;
    if (this.#batch.length >= BATCH_SIGNATURES) this.#send();
  }

  #send(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    const buffer = new ArrayBuffer(this.#batchBytes);
    const bytes = new Uint8Array(buffer);
    let at = 0;
    for (const pair of batch) {
      bytes.set(pair.manifest, at);
      at += pair.manifest.length;
    }
    this.#batch = [];
    this.#batchBytes = 0;
    const fingerprints = new Set(batch.map((pair) => pair.fingerprint));
    const checked = this.#pool
      .verify({
        buffer,
        keys: [...fingerprints].flatMap((fingerprint) => {
          const key = this.#keys.get(fingerprint);
          return key ? [[fingerprint, key] as const] : [];
        }),
        items: batch.map(({ fingerprint, manifest, signature }) => ({
          fingerprint,
          length: manifest.length,
          signature,
        })),
      })
      .then((valid) => {
        batch.forEach((pair, index) => {
          this.#results.set(pair.id, valid[index] === true);
        });
      });
    checked.catch(() => {});
    this.#pending.push(checked);
  }

  /** Every check sent, done; rejects when a worker failed. Pairs whose key never came are left out. */
  async results(): Promise<ReadonlyMap<string, boolean>> {
    this.#send();
    await Promise.all(this.#pending);
    return this.#results;
  }
}
