import type { KeyObject } from 'node:crypto';
import {
  MANIFEST_FILE,
  parseEvidenceKey,
  SIGNATURE_FILE,
  signatureKeyFor,
} from '../evidence/evidence-layout.ts';
import { type Manifest, parseManifest } from '../evidence/manifest.ts';
import { verifySignature } from '../evidence/verify-signature.ts';
import type { ArchiveFile } from './archive-file.ts';
import { type Finding, short } from './findings.ts';
import { signatureCheckKey } from './signature-precheck.ts';

/** A manifest that parsed, with the file it came from and its signature when one is beside it. */
export interface ParsedManifest {
  readonly path: string;
  readonly file: ArchiveFile;
  readonly manifest: Manifest;
  readonly signature?: string;
}

export interface ManifestCheckOptions {
  /** Pinned key fingerprints (lowercase hex); absent when nothing is pinned. */
  readonly trusted?: ReadonlySet<string>;
  /** Signature checks already done elsewhere, by {@link signatureCheckKey}. */
  readonly signatureResults?: ReadonlyMap<string, boolean>;
}

export interface ManifestsPhase {
  readonly manifests: readonly ParsedManifest[];
  /** Every `manifest.json` path seen, readable or not. */
  readonly manifestPaths: readonly string[];
  /** Manifests, their signatures and the artifacts they list that are present. */
  readonly accounted: readonly string[];
  /** How many manifests name each key fingerprint. */
  readonly keyUse: ReadonlyMap<string, number>;
  readonly artifactsChecked: number;
  readonly signaturesValid: number;
  readonly problems: readonly Finding[];
}

/**
 * Phase 4: every manifest on its own: it parses, its signature holds under a published (and, when
 * pinned, trusted) key, it sits in the run folder it speaks for, and each artifact it lists is
 * present, inside that folder, with the sealed size and SHA-256.
 */
export function checkManifests(
  files: ReadonlyMap<string, ArchiveFile>,
  keys: ReadonlyMap<string, KeyObject>,
  options: ManifestCheckOptions = {},
): ManifestsPhase {
  const { trusted } = options;
  const problems: Finding[] = [];
  const problem = (finding: Finding) => problems.push(finding);
  const manifests: ParsedManifest[] = [];
  const manifestPaths: string[] = [];
  const accounted: string[] = [];
  const keyUse = new Map<string, number>();
  let artifactsChecked = 0;
  let signaturesValid = 0;
  for (const file of files.values()) {
    // Most files are artifacts: skip them before splitting their path.
    if (!file.path.endsWith(`/${MANIFEST_FILE}`)) continue;
    const location = parseEvidenceKey(file.path);
    if (location?.kind !== 'run-file' || location.file !== MANIFEST_FILE) continue;
    accounted.push(file.path);
    manifestPaths.push(file.path);
    const where = { file: file.path, controlId: location.controlId, periodKey: location.periodKey };
    let manifest: Manifest;
    try {
      manifest = parseManifest(file.content ?? Buffer.alloc(0));
    } catch (error) {
      problem({
        ...where,
        code: 'manifest-unreadable',
        message: `${file.path}: ${(error as Error).message}`,
      });
      continue;
    }
    const who = { file: file.path, controlId: manifest.control.id, periodKey: manifest.period.key };

    // Signature.
    const signaturePath = signatureKeyFor(file.path);
    const signatureFile = files.get(signaturePath);
    let signature: string | undefined;
    const fingerprint = manifest.signing.keyFingerprint;
    keyUse.set(fingerprint, (keyUse.get(fingerprint) ?? 0) + 1);
    if (!signatureFile?.content) {
      problem({
        ...who,
        code: 'signature-missing',
        message: `${file.path} has no ${SIGNATURE_FILE} beside it: the manifest is unsigned`,
      });
    } else {
      accounted.push(signaturePath);
      signature = signatureFile.content.toString('utf8').trim();
      const key = keys.get(fingerprint);
      // Base64 decoding skips stray characters; only the exact encoding the recorder wrote is accepted.
      const canonical = Buffer.from(signature, 'base64').toString('base64') === signature;
      if (!canonical) {
        problem({
          ...who,
          code: 'signature-invalid',
          message: `${signaturePath} is not the base64 signature the recorder wrote: altered`,
        });
      } else if (!key) {
        problem({
          ...who,
          code: 'key-unknown',
          message: `${file.path} is signed by key ${short(fingerprint)}, whose public key is not in the archive`,
        });
      } else if (
        !(
          options.signatureResults?.get(signatureCheckKey(fingerprint, file.sha256, signature)) ??
          verifySignature(file.content ?? Buffer.alloc(0), Buffer.from(signature, 'base64'), key)
        )
      ) {
        problem({
          ...who,
          code: 'signature-invalid',
          message: `${file.path}: signature does not match the manifest under key ${short(fingerprint)}: the manifest or its signature was altered`,
        });
      } else {
        signaturesValid += 1;
      }
      if (trusted && !trusted.has(fingerprint)) {
        problem({
          ...who,
          code: 'key-untrusted',
          message: `${file.path} is signed by key ${short(fingerprint)}, which is not a trusted key`,
        });
      }
    }

    // Placement: the folder must be the run the manifest speaks for.
    const misplaced =
      location.controlId !== manifest.control.id ||
      location.cadence !== manifest.period.cadence ||
      location.periodKey !== manifest.period.key ||
      location.runId !== manifest.runId;
    if (misplaced) {
      problem({
        ...who,
        code: 'manifest-misplaced',
        message: `${file.path} is the manifest of ${manifest.control.id} period ${manifest.period.key} (run ${manifest.runId}), stored under period ${location.periodKey} run ${location.runId}: moved or swapped with another run's`,
      });
    }

    // Artifacts. A population's file is named as one: a changed, added or removed line is its problem.
    const populations = new Map(
      (manifest.populations ?? []).map((population) => [population.key, population]),
    );
    for (const artifact of manifest.artifacts) {
      if (!misplaced && !artifact.key.startsWith(location.runPrefix)) {
        problem({
          ...who,
          code: 'artifact-outside-run',
          file: artifact.key,
          message: `${file.path} lists ${artifact.key}, outside its own run folder`,
        });
      }
      const stored = files.get(artifact.key);
      if (!stored) {
        problem({
          ...who,
          code: 'artifact-missing',
          file: artifact.key,
          message: `${artifact.key} is listed by ${file.path} (${manifest.control.id}, period ${manifest.period.key}) but is not in the archive: deleted`,
        });
        continue;
      }
      accounted.push(artifact.key);
      artifactsChecked += 1;
      const population = populations.get(artifact.key);
      if (population && (stored.sha256 !== artifact.sha256 || stored.size !== artifact.size)) {
        problem({
          ...who,
          code: 'population-altered',
          file: artifact.key,
          message: `population ${population.name} (${artifact.key}): ${stored.lines ?? '?'} lines, ${stored.size} bytes, SHA-256 ${stored.sha256.slice(0, 16)}… differ from the ${population.rows} items, ${artifact.size} bytes, ${artifact.sha256.slice(0, 16)}… sealed in ${file.path}: a line was changed, added or removed`,
        });
      } else if (stored.sha256 !== artifact.sha256 || stored.size !== artifact.size) {
        problem({
          ...who,
          code: 'artifact-altered',
          file: artifact.key,
          message: `${artifact.key}: SHA-256 ${stored.sha256.slice(0, 16)}… (${stored.size} bytes) differs from ${artifact.sha256.slice(0, 16)}… (${artifact.size} bytes) sealed in ${file.path}: altered after it was recorded`,
        });
      }
    }
    manifests.push({ path: file.path, file, manifest, ...(signature ? { signature } : {}) });
  }
  return { manifests, manifestPaths, accounted, keyUse, artifactsChecked, signaturesValid, problems };
}
