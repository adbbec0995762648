import type { KeyObject } from 'node:crypto';
import { parseEvidenceKey } from '../evidence/evidence-layout.ts';
import { parsePublicKey, publicKeyInfo } from '../evidence/signer.ts';
import type { ArchiveFile } from './archive-file.ts';
import { type Finding, short } from './findings.ts';

export interface PublicKeysPhase {
  /** Usable keys by fingerprint: only those whose file name is the fingerprint of what it holds. */
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** Every public-key file seen (valid or not), so none is reported as unexpected. */
  readonly accounted: readonly string[];
  readonly problems: readonly Finding[];
}

/** Phase 3: the published public keys; a key file must hold the key its name claims. */
export function readPublicKeys(files: ReadonlyMap<string, ArchiveFile>): PublicKeysPhase {
  const keys = new Map<string, KeyObject>();
  const accounted: string[] = [];
  const problems: Finding[] = [];
  for (const file of files.values()) {
    const parsed = parseEvidenceKey(file.path);
    if (parsed?.kind !== 'public-key') continue;
    accounted.push(file.path);
    try {
      const key = parsePublicKey(file.content?.toString('utf8') ?? '');
      const info = publicKeyInfo(key);
      if (info.fingerprint === parsed.fingerprint && info.pem !== (file.content?.toString('utf8') ?? '')) {
        problems.push({
          code: 'key-invalid',
          file: file.path,
          message: `${file.path} holds the right key but not in the form it was published (PEM SPKI as written): altered`,
        });
        continue;
      }
      if (info.fingerprint !== parsed.fingerprint) {
        problems.push({
          code: 'key-invalid',
          file: file.path,
          message: `${file.path} holds the key ${short(info.fingerprint)}, not the key its name claims: the public key was replaced`,
        });
        continue;
      }
      keys.set(info.fingerprint, key);
    } catch (error) {
      problems.push({
        code: 'key-invalid',
        file: file.path,
        message: `${file.path} is not a P-256 public key (${(error as Error).message})`,
      });
    }
  }
  return { keys, accounted, problems };
}
