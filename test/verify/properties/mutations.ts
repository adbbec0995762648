import { CHECKPOINTS_PREFIX } from '../../../lib/evidence/checkpoint.ts';
import {
  MANIFEST_FILE,
  parseEvidenceKey,
  publicKeyKey,
  signatureKeyFor,
} from '../../../lib/evidence/evidence-layout.ts';
import { parseManifest, serializeManifest } from '../../../lib/evidence/manifest.ts';
import type { ArchiveFile } from '../../../lib/verify/archive-file.ts';
import { fileOf, signBytes, type TestKey } from '../memory-archive.ts';

export const MUTATION_KINDS = [
  'delete-manifest',
  'delete-signature',
  'delete-artifact',
  'delete-key',
  'reorder',
  'duplicate',
  'alter',
  'resign',
  'truncate',
  'drop-control',
  'drop-checkpoint',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface MutationSpec {
  readonly kind: MutationKind;
  /** Chooses the target among the candidates (modulo their number). */
  readonly pick: number;
  readonly pick2: number;
}

export interface Mutated {
  readonly files: Map<string, ArchiveFile>;
  readonly description: string;
  /** The control the mutation touched, when it touched one: a problem must name it. */
  readonly controlId?: string;
}

interface SealedRun {
  readonly prefix: string;
  readonly manifestKey: string;
  readonly controlId: string;
  readonly sequence: number;
  readonly kind: string;
}

function sealedRuns(files: ReadonlyMap<string, ArchiveFile>): SealedRun[] {
  const runs: SealedRun[] = [];
  for (const file of files.values()) {
    const location = parseEvidenceKey(file.path);
    if (location?.kind !== 'run-file' || location.file !== MANIFEST_FILE || !file.content) continue;
    const manifest = parseManifest(file.content);
    runs.push({
      prefix: location.runPrefix,
      manifestKey: file.path,
      controlId: manifest.control.id,
      sequence: manifest.chain.sequence,
      kind: manifest.chain.kind ?? 'scheduled',
    });
  }
  return runs.sort((a, b) => (a.manifestKey < b.manifestKey ? -1 : 1));
}

const at = <T>(items: readonly T[], index: number): T | undefined =>
  items.length === 0 ? undefined : items[index % items.length];

function deletePrefix(files: Map<string, ArchiveFile>, prefix: string): void {
  for (const key of [...files.keys()]) if (key.startsWith(prefix)) files.delete(key);
}

/**
 * Applies one illegitimate change to a copy of a legitimate history's files; undefined when the
 * history offers no target for it (e.g. `reorder` with one run).
 */
export function mutate(
  original: ReadonlyMap<string, ArchiveFile>,
  spec: MutationSpec,
  forger: TestKey,
): Mutated | undefined {
  const files = new Map(original);
  const runs = sealedRuns(files);
  const run = at(runs, spec.pick);
  const checkpoints = [...files.keys()].filter((key) => key.startsWith(CHECKPOINTS_PREFIX)).sort();
  switch (spec.kind) {
    case 'delete-manifest': {
      if (!run) return undefined;
      files.delete(run.manifestKey);
      files.delete(signatureKeyFor(run.manifestKey));
      return { files, description: `deleted ${run.manifestKey} and its signature`, controlId: run.controlId };
    }
    case 'delete-signature': {
      if (!run) return undefined;
      files.delete(signatureKeyFor(run.manifestKey));
      return { files, description: `deleted the signature of ${run.manifestKey}`, controlId: run.controlId };
    }
    case 'delete-artifact': {
      if (!run) return undefined;
      files.delete(`${run.prefix}result.json`);
      return { files, description: `deleted ${run.prefix}result.json`, controlId: run.controlId };
    }
    case 'delete-key': {
      const keys = [...files.keys()].filter((key) => parseEvidenceKey(key)?.kind === 'public-key').sort();
      const key = at(keys, spec.pick);
      if (!key) return undefined;
      files.delete(key);
      return { files, description: `deleted public key ${key}` };
    }
    case 'reorder': {
      const sameControl = runs.filter(
        (other) => run && other.controlId === run.controlId && other.kind === run.kind,
      );
      const other = at(
        sameControl.filter((candidate) => candidate !== run),
        spec.pick2,
      );
      if (!run || !other) return undefined;
      for (const name of ['manifest.json', 'manifest.sig']) {
        const a = files.get(`${run.prefix}${name}`);
        const b = files.get(`${other.prefix}${name}`);
        if (!a?.content || !b?.content) return undefined;
        files.set(a.path, fileOf(a.path, b.content));
        files.set(b.path, fileOf(b.path, a.content));
      }
      return {
        files,
        description: `swapped ${run.manifestKey} and ${other.manifestKey}`,
        controlId: run.controlId,
      };
    }
    case 'duplicate': {
      if (!run) return undefined;
      const copy = `${run.prefix.slice(0, -1)}-copy/`;
      for (const [key, file] of original) {
        if (key.startsWith(run.prefix) && file.content)
          files.set(
            copy + key.slice(run.prefix.length),
            fileOf(copy + key.slice(run.prefix.length), file.content),
          );
      }
      return { files, description: `duplicated ${run.prefix} as ${copy}`, controlId: run.controlId };
    }
    case 'alter': {
      const targets = [...files.values()]
        .filter(
          (file) =>
            file.content &&
            file.size > 0 &&
            (file.path.startsWith(CHECKPOINTS_PREFIX) ||
              runs.some((r) => file.path.startsWith(r.prefix)) ||
              parseEvidenceKey(file.path)?.kind === 'public-key'),
        )
        .sort((a, b) => (a.path < b.path ? -1 : 1));
      const target = at(targets, spec.pick);
      if (!target?.content) return undefined;
      const bytes = Buffer.from(target.content);
      const offset = spec.pick2 % bytes.length;
      bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
      files.set(target.path, fileOf(target.path, bytes));
      const owner = runs.find((r) => target.path.startsWith(r.prefix));
      return {
        files,
        description: `flipped a bit at ${offset} of ${target.path}`,
        ...(owner ? { controlId: owner.controlId } : {}),
      };
    }
    case 'resign': {
      const file = run ? files.get(run.manifestKey) : undefined;
      if (!run || !file?.content) return undefined;
      const manifest = parseManifest(file.content);
      const changed = {
        ...manifest,
        verdict: manifest.verdict === 'pass' ? ('fail' as const) : ('pass' as const),
        signing: {
          ...manifest.signing,
          keyFingerprint: forger.fingerprint,
          publicKeyKey: publicKeyKey(forger.fingerprint),
        },
      };
      const bytes = serializeManifest(changed);
      files.set(run.manifestKey, fileOf(run.manifestKey, bytes));
      files.set(
        signatureKeyFor(run.manifestKey),
        fileOf(signatureKeyFor(run.manifestKey), signBytes(forger, bytes)),
      );
      files.set(publicKeyKey(forger.fingerprint), fileOf(publicKeyKey(forger.fingerprint), forger.pem));
      return {
        files,
        description: `flipped the verdict of ${run.manifestKey} and re-signed it with another key`,
        controlId: run.controlId,
      };
    }
    case 'truncate': {
      if (!run) return undefined;
      const chain = runs.filter((other) => other.controlId === run.controlId && other.kind === run.kind);
      const highest = Math.max(...chain.map((other) => other.sequence));
      const cut = 1 + (spec.pick2 % Math.min(3, chain.length));
      for (const other of chain) if (other.sequence > highest - cut) deletePrefix(files, other.prefix);
      return {
        files,
        description: `cut the last ${cut} run(s) off ${run.controlId}'s ${run.kind} chain`,
        controlId: run.controlId,
      };
    }
    case 'drop-control': {
      if (!run) return undefined;
      deletePrefix(files, `evidence/${run.controlId}/`);
      return { files, description: `removed every file of ${run.controlId}`, controlId: run.controlId };
    }
    case 'drop-checkpoint': {
      const checkpoint = at(checkpoints, spec.pick);
      if (!checkpoint) return undefined;
      files.delete(checkpoint);
      return { files, description: `removed ${checkpoint}` };
    }
  }
}
