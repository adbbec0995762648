import type { KeyObject } from 'node:crypto';
import {
  CHECKPOINT_MAX_AGE_MS,
  CHECKPOINTS_PREFIX,
  type Checkpoint,
  type CheckpointControl,
  checkpointSigningBytes,
  parseCheckpointKey,
  parseSignedCheckpoint,
  signedCheckpointBytes,
} from '../evidence/checkpoint.ts';
import { type DateRange, periodInRange } from '../evidence/coverage.ts';
import { verifySignature } from '../evidence/verify-signature.ts';
import { type Cadence, periodFromKey } from '../shared/period.ts';
import type { ArchiveFile } from './archive-file.ts';
import { type Finding, short } from './findings.ts';

/** A manifest some checkpoint listed: it existed, so it must still be there. */
export interface PinnedManifest {
  readonly key: string;
  readonly sha256: string;
  readonly controlId: string;
  readonly periodKey: string;
  readonly checkpoint: string;
}

export interface ParsedCheckpoint {
  readonly path: string;
  readonly sha256: string;
  readonly signature: string;
  readonly checkpoint: Checkpoint;
}

export interface CheckpointsInput {
  readonly files: ReadonlyMap<string, ArchiveFile>;
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly trusted?: ReadonlySet<string>;
  readonly range: DateRange;
  readonly asOf: Date;
}

export interface CheckpointsPhase {
  readonly checkpoints: readonly ParsedCheckpoint[];
  /** The newest valid checkpoint: which controls are configured, and since when. */
  readonly newest?: ParsedCheckpoint;
  /** Controls of the newest checkpoint, by id. */
  readonly controls: ReadonlyMap<string, CheckpointControl>;
  /** In-range manifests any checkpoint listed, by key. */
  readonly pinned: ReadonlyMap<string, PinnedManifest>;
  readonly accounted: readonly string[];
  readonly problems: readonly Finding[];
}

const dayOf = (instant: string | Date) => new Date(instant).toISOString().slice(0, 10);

/**
 * Phase 5a: the signed checkpoints. Each must parse and carry a valid signature under a published
 * (and, when pinned, trusted) key; together they must form one chain with nothing missing inside the
 * range; one must be written after the range ends (it covers the range end); and the newest must be
 * recent at the check time (the export's, or `--as-of`). What they list (manifests in range, controls
 * and their `addedOn`) is handed on to the chain and coverage phases.
 */
export function checkCheckpoints(input: CheckpointsInput): CheckpointsPhase {
  const { files, keys, trusted, range } = input;
  const problems: Finding[] = [];
  const accounted: string[] = [];
  const parsed: ParsedCheckpoint[] = [];
  for (const file of files.values()) {
    if (!file.path.startsWith(CHECKPOINTS_PREFIX)) continue;
    accounted.push(file.path);
    const invalid = (why: string) =>
      problems.push({ code: 'checkpoint-invalid', file: file.path, message: `${file.path}: ${why}` });
    if (!parseCheckpointKey(file.path)) {
      invalid('not a checkpoint name (checkpoints/<yyyymmddThhmmssZ>.json): added');
      continue;
    }
    let signed: ReturnType<typeof parseSignedCheckpoint>;
    try {
      signed = parseSignedCheckpoint(file.content ?? Buffer.alloc(0));
    } catch (error) {
      invalid((error as Error).message);
      continue;
    }
    const { checkpoint } = signed;
    const fingerprint = checkpoint.signing.keyFingerprint;
    const key = keys.get(fingerprint);
    if (!key) {
      problems.push({
        code: 'key-unknown',
        file: file.path,
        message: `${file.path} is signed by key ${short(fingerprint)}, whose public key is not in the archive`,
      });
      continue;
    }
    const canonicalSignature =
      Buffer.from(signed.signature, 'base64').toString('base64') === signed.signature;
    // The canonical JSON once: the signed bytes, and the stored form built around them.
    const signingBytes = checkpointSigningBytes(checkpoint);
    const canonicalBytes = signedCheckpointBytes(signingBytes, signed.signature).equals(
      file.content ?? Buffer.alloc(0),
    );
    if (!canonicalSignature || !canonicalBytes) {
      invalid('not in the exact form the checkpoint writer stores: altered');
      continue;
    }
    if (!verifySignature(signingBytes, Buffer.from(signed.signature, 'base64'), key)) {
      invalid(`signature does not match the checkpoint under key ${short(fingerprint)}: altered or forged`);
      continue;
    }
    if (trusted && !trusted.has(fingerprint)) {
      problems.push({
        code: 'key-untrusted',
        file: file.path,
        message: `${file.path} is signed by key ${short(fingerprint)}, which is not a trusted key`,
      });
    }
    if (parseCheckpointKey(file.path)?.getTime() !== Date.parse(checkpoint.writtenAt)) {
      invalid(`says it was written ${checkpoint.writtenAt}, not when its name says: moved`);
      continue;
    }
    parsed.push({ path: file.path, sha256: file.sha256, signature: signed.signature, checkpoint });
  }
  parsed.sort((a, b) => a.checkpoint.sequence - b.checkpoint.sequence);

  // The chain of checkpoints: each names its predecessor by hash and signature.
  const bySequence = new Map(parsed.map((entry) => [entry.checkpoint.sequence, entry]));
  for (const entry of parsed) {
    const previous = entry.checkpoint.previous;
    if (!previous) {
      if (entry.checkpoint.sequence !== 1) {
        problems.push({
          code: 'checkpoint-invalid',
          file: entry.path,
          message: `${entry.path}: sequence ${entry.checkpoint.sequence} names no predecessor`,
        });
      }
      continue;
    }
    const before = bySequence.get(previous.sequence);
    if (before) {
      if (
        before.path !== previous.key ||
        before.sha256 !== previous.sha256 ||
        before.signature !== previous.signature
      ) {
        problems.push({
          code: 'checkpoint-invalid',
          file: before.path,
          message: `${before.path} is not the checkpoint ${entry.path} names as its predecessor (${previous.key}): replaced`,
        });
      }
      continue;
    }
    const writtenAt = parseCheckpointKey(previous.key);
    // The export starts at the checkpoints of the range's first day; anything later must be present.
    if (writtenAt && range.from && dayOf(writtenAt) < range.from) continue;
    problems.push({
      code: 'checkpoint-missing',
      file: previous.key,
      message: `${previous.key} (checkpoint ${previous.sequence}) is missing: ${entry.path} names it as its predecessor; it was deleted`,
    });
  }

  const newest = parsed[parsed.length - 1];
  if (!newest) {
    problems.push({
      code: 'checkpoint-missing',
      file: CHECKPOINTS_PREFIX,
      message: `no signed checkpoint in the archive: nothing says which controls and chain heads must exist (sync or export ${CHECKPOINTS_PREFIX} too)`,
    });
  } else {
    // The range end (its last day, UTC) must be covered; a range reaching past the check time, or
    // without an end, is covered up to the check time, which the staleness rule below bounds.
    const rangeEnd = range.to
      ? Date.parse(`${range.to}T00:00:00Z`) + 24 * 3_600_000
      : Number.POSITIVE_INFINITY;
    const cover = rangeEnd;
    if (rangeEnd <= input.asOf.getTime() && Date.parse(newest.checkpoint.writtenAt) < cover) {
      problems.push({
        code: 'checkpoint-missing',
        file: newest.path,
        message: `the newest checkpoint, ${newest.path}, was written before ${new Date(cover).toISOString()}: no checkpoint covers the end of the range, so its last runs could have been dropped unnoticed`,
      });
    }
    const age = input.asOf.getTime() - Date.parse(newest.checkpoint.writtenAt);
    if (age > CHECKPOINT_MAX_AGE_MS) {
      problems.push({
        code: 'checkpoint-stale',
        file: newest.path,
        message: `the newest checkpoint, ${newest.path}, is ${(age / 3_600_000).toFixed(0)} h older than the check time ${input.asOf.toISOString()} (the export's time, or --as-of); checkpoints are written at least daily: later ones were removed, or the copy is older than the check time`,
      });
    }
  }

  const pinned = new Map<string, PinnedManifest>();
  // A year of checkpoints lists every manifest once or more, but only a few hundred distinct
  // periods: decided once each (the calendar arithmetic was most of verify's time on large archives).
  const periodIsInRange = new Map<string, boolean>();
  const inRangeOnce = (cadence: string, periodKey: string, timeZone: string): boolean => {
    const id = `${cadence}|${periodKey}|${timeZone}`;
    let inRange = periodIsInRange.get(id);
    if (inRange === undefined) {
      try {
        inRange = periodInRange(periodFromKey(cadence as Cadence, periodKey, timeZone), range);
      } catch {
        inRange = false;
      }
      periodIsInRange.set(id, inRange);
    }
    return inRange;
  };
  for (const entry of parsed) {
    const timeZone = entry.checkpoint.timeZone;
    // Sign-off chains pin their manifests like a control's chain does: one per chain, by chain id.
    const signOffs = (entry.checkpoint.signOffs ?? []).map((chain) => ({ id: chain.id, chains: [chain] }));
    for (const control of [...entry.checkpoint.controls, ...signOffs]) {
      for (const chain of control.chains) {
        for (const listed of [...chain.added, ...(chain.head ? [chain.head] : [])]) {
          if (pinned.has(listed.key)) continue;
          if (!inRangeOnce(chain.cadence, listed.periodKey, timeZone)) continue;
          pinned.set(listed.key, {
            key: listed.key,
            sha256: listed.sha256,
            controlId: control.id,
            periodKey: listed.periodKey,
            checkpoint: entry.path,
          });
        }
      }
    }
  }
  const controls = new Map((newest?.checkpoint.controls ?? []).map((control) => [control.id, control]));
  return {
    checkpoints: parsed,
    ...(newest ? { newest } : {}),
    controls,
    pinned,
    accounted,
    problems,
  };
}

/** Every pinned manifest must be in the archive with the hash the checkpoint recorded. */
export function checkPinned(
  pinned: ReadonlyMap<string, PinnedManifest>,
  files: ReadonlyMap<string, ArchiveFile>,
): Finding[] {
  const problems: Finding[] = [];
  for (const entry of pinned.values()) {
    const there = files.get(entry.key);
    const where = { file: entry.key, controlId: entry.controlId, periodKey: entry.periodKey };
    if (!there) {
      problems.push({
        ...where,
        code: 'manifest-missing',
        message: `${entry.key} (${entry.controlId}, period ${entry.periodKey}) is missing: checkpoint ${entry.checkpoint} lists it; it was deleted`,
      });
    } else if (there.sha256 !== entry.sha256) {
      problems.push({
        ...where,
        code: 'manifest-replaced',
        message: `${entry.key} (${entry.controlId}, period ${entry.periodKey}): SHA-256 ${there.sha256.slice(0, 16)}… is not the ${entry.sha256.slice(0, 16)}… checkpoint ${entry.checkpoint} recorded: replaced`,
      });
    }
  }
  return problems;
}
