import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { evidenceDocument } from '../../lib/adapters/s3/s3-evidence-recorder.ts';
import {
  MANIFEST_FILE,
  publicKeyKey,
  RESULT_FILE,
  SIGNATURE_FILE,
} from '../../lib/evidence/evidence-layout.ts';
import { runPrefix } from '../../lib/evidence/evidence-recorder.ts';
import {
  buildManifest,
  type ChainLink,
  type Manifest,
  serializeManifest,
} from '../../lib/evidence/manifest.ts';
import { publicKeyInfo } from '../../lib/evidence/signer.ts';
import type { RunResult } from '../../lib/runs/run-record.ts';
import { sha256Hex } from '../../lib/shared/canonical-json.ts';
import type { ArchiveContents, ArchiveFile } from '../../lib/verify/archive-file.ts';

/** A P-256 key pair usable synchronously, for in-memory archives. */
export interface TestKey {
  readonly privateKey: KeyObject;
  readonly fingerprint: string;
  readonly pem: string;
}

export function testKey(): TestKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const info = publicKeyInfo(
    createPublicKey(createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }))),
  );
  return { privateKey, ...info };
}

export function signBytes(key: TestKey, bytes: Uint8Array): string {
  return sign('sha256', bytes, { key: key.privateKey, dsaEncoding: 'der' }).toString('base64');
}

export function fileOf(path: string, bytes: Buffer | string): ArchiveFile {
  const content = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8');
  return { path, size: content.length, sha256: sha256Hex(content), content };
}

/**
 * Evidence built in memory the way the recorder lays it out in the bucket, for pure verifier tests:
 * each `record` writes result.json, a chained signed manifest and its signature, and the public key.
 */
export class MemoryArchive {
  readonly files = new Map<string, ArchiveFile>();
  readonly #heads = new Map<string, ChainLink>();

  put(path: string, bytes: Buffer | string): ArchiveFile {
    const file = fileOf(path, bytes);
    this.files.set(path, file);
    return file;
  }

  record(run: RunResult, key: TestKey): { manifest: Manifest; manifestKey: string; signature: string } {
    const prefix = runPrefix(run);
    const result = this.put(`${prefix}${RESULT_FILE}`, `${JSON.stringify(evidenceDocument(run), null, 2)}\n`);
    this.put(publicKeyKey(key.fingerprint), key.pem);
    const head = this.#heads.get(run.controlId);
    const manifest = buildManifest({
      run,
      timeZone: 'UTC',
      artifacts: [
        { key: result.path, size: result.size, sha256: result.sha256, contentType: 'application/json' },
      ],
      sequence: (head?.sequence ?? 0) + 1,
      previous: head ?? null,
      keyFingerprint: key.fingerprint,
      publicKeyKey: publicKeyKey(key.fingerprint),
    });
    const bytes = serializeManifest(manifest);
    const signature = signBytes(key, bytes);
    const manifestKey = `${prefix}${MANIFEST_FILE}`;
    const stored = this.put(manifestKey, bytes);
    this.put(`${prefix}${SIGNATURE_FILE}`, signature);
    this.#heads.set(run.controlId, {
      sequence: manifest.chain.sequence,
      key: manifestKey,
      sha256: stored.sha256,
      signature,
      periodKey: run.periodKey,
    });
    return { manifest, manifestKey, signature };
  }

  contents(): ArchiveContents {
    let bytes = 0;
    for (const file of this.files.values()) bytes += file.size;
    return { kind: 'folder', source: 'memory', files: new Map(this.files), bytes };
  }
}
