import { type DateRange, lastDayOf, periodBeforeRange } from '../evidence/coverage.ts';
import { periodFromKey } from '../shared/period.ts';
import type { ArchiveFile } from './archive-file.ts';
import type { ParsedManifest } from './check-manifests.ts';
import { type Finding, short } from './findings.ts';

export interface ChainCheckInput {
  readonly controlId: string;
  /** Every parsed manifest of the control. */
  readonly manifests: readonly ParsedManifest[];
  /** The whole archive: a predecessor that is not a parsed manifest may still be there. */
  readonly files: ReadonlyMap<string, ArchiveFile>;
  readonly range: DateRange;
  /** True for a pinned key: a change between two pinned keys is a deliberate rotation. */
  readonly isTrusted: (fingerprint: string) => boolean;
  /** Manifest keys a signed checkpoint listed: among competing tips, the one listed is the head. */
  readonly pinned?: ReadonlySet<string>;
}

export interface ChainPhase {
  /** The manifests each manifest is named as predecessor by. */
  readonly successors: ReadonlyMap<ParsedManifest, readonly ParsedManifest[]>;
  /** Manifests whose predecessor lies before the range: the chain enters the range there. */
  readonly entersRange: ReadonlySet<ParsedManifest>;
  /** The newest tip: highest sequence, no successor, latest `collectedAt` among equals. */
  readonly head?: ParsedManifest;
  /** Tips whose sequence is taken on the chain by another manifest. */
  readonly orphans: ReadonlySet<ParsedManifest>;
  readonly problems: readonly Finding[];
  readonly notes: readonly Finding[];
}

/**
 * Phase 5: one control's chain: consecutive sequences, every predecessor present with the hash and
 * signature its successor recorded and the same key (unless both are pinned), then the head and
 * orphans among the tips.
 */
export function checkChain(input: ChainCheckInput): ChainPhase {
  const { controlId, manifests: list, files, range, isTrusted } = input;
  const problems: Finding[] = [];
  const notes: Finding[] = [];
  const problem = (finding: Finding) => problems.push(finding);
  const successors = new Map<ParsedManifest, ParsedManifest[]>();
  const entersRange = new Set<ParsedManifest>();
  const byHash = new Map(list.map((parsed) => [parsed.file.sha256, parsed]));
  for (const parsed of list) {
    const { manifest } = parsed;
    const sequence = manifest.chain.sequence;
    const previous = manifest.chain.previous;
    const who = { file: parsed.path, controlId, periodKey: manifest.period.key };
    if (!previous) {
      if (sequence !== 1) {
        problem({
          ...who,
          code: 'chain-broken',
          message: `${parsed.path}: sequence ${sequence} names no predecessor; only sequence 1 may start a chain`,
        });
      }
      continue;
    }
    if (previous.sequence !== sequence - 1) {
      problem({
        ...who,
        code: 'chain-broken',
        message: `${parsed.path}: sequence ${sequence} follows sequence ${previous.sequence}; sequences must be consecutive`,
      });
    }
    const linked = byHash.get(previous.sha256);
    if (linked) {
      successors.set(linked, [...(successors.get(linked) ?? []), parsed]);
      if (linked.manifest.chain.sequence !== previous.sequence) {
        problem({
          ...who,
          code: 'chain-broken',
          message: `${parsed.path} names ${linked.path} as sequence ${previous.sequence}, but it carries sequence ${linked.manifest.chain.sequence}`,
        });
      }
      if (linked.signature !== undefined && linked.signature !== previous.signature) {
        problem({
          file: linked.path,
          controlId,
          periodKey: linked.manifest.period.key,
          code: 'manifest-resigned',
          message: `${linked.path}: its signature is not the one its successor ${parsed.path} recorded: re-signed after the fact`,
        });
      }
      const fromKey = linked.manifest.signing.keyFingerprint;
      const toKey = manifest.signing.keyFingerprint;
      if (fromKey !== toKey && !(isTrusted(fromKey) && isTrusted(toKey))) {
        problem({
          ...who,
          code: 'key-changed',
          message: `${parsed.path} is signed by key ${short(toKey)} but its predecessor ${linked.path} by ${short(fromKey)}: re-signed with another key (for a deliberate key rotation, pass both keys with --trusted-key)`,
        });
      }
      continue;
    }
    const there = files.get(previous.key);
    if (there) {
      problem({
        file: previous.key,
        controlId,
        periodKey: previous.periodKey,
        code: 'manifest-replaced',
        message: `${previous.key} (period ${previous.periodKey}, sequence ${previous.sequence}): SHA-256 ${there.sha256.slice(0, 16)}… is not the ${previous.sha256.slice(0, 16)}… its successor ${parsed.path} recorded: the manifest was replaced or altered`,
      });
      continue;
    }
    let predecessorBeforeRange = false;
    let predecessorAfterRange = false;
    try {
      const period = periodFromKey(manifest.period.cadence, previous.periodKey, manifest.period.timeZone);
      predecessorBeforeRange = periodBeforeRange(period, range);
      predecessorAfterRange = range.to !== undefined && lastDayOf(period) > range.to;
    } catch {
      predecessorBeforeRange = false;
    }
    if (predecessorAfterRange) {
      // A re-run of an old period, recorded after later periods: its predecessor is outside the range.
      notes.push({
        ...who,
        code: 'chain-outside-range',
        message: `${parsed.path} re-ran period ${manifest.period.key} after later periods; its predecessor (sequence ${previous.sequence}, ${previous.periodKey}) is after the range`,
      });
      continue;
    }
    if (predecessorBeforeRange) {
      entersRange.add(parsed);
      notes.push({
        ...who,
        code: 'chain-before-range',
        message: `${controlId}: the chain begins before the range; sequence ${previous.sequence} (${previous.periodKey}) is outside it`,
      });
      continue;
    }
    problem({
      file: previous.key,
      controlId,
      periodKey: previous.periodKey,
      code: 'manifest-missing',
      message: `${previous.key} (period ${previous.periodKey}, sequence ${previous.sequence}) is missing: ${parsed.path} (sequence ${sequence}) names it as its predecessor; it was deleted`,
    });
  }

  // Tips: manifests nobody succeeds. The head is the highest; a tip that shares its sequence with a
  // manifest on the chain is an orphan (crash before the head advanced, or a lost race).
  const hasSuccessor = (parsed: ParsedManifest) => (successors.get(parsed)?.length ?? 0) > 0;
  const tips = list.filter((parsed) => !hasSuccessor(parsed));
  const highest = Math.max(...list.map((parsed) => parsed.manifest.chain.sequence));
  // Among competing tips, the one a signed checkpoint listed wins; a later `collectedAt` does not.
  const pinned = input.pinned ?? new Set<string>();
  const head = tips
    .filter((parsed) => parsed.manifest.chain.sequence === highest)
    .sort((a, b) => {
      const byPin = Number(pinned.has(b.path)) - Number(pinned.has(a.path));
      if (byPin !== 0) return byPin;
      return a.manifest.collectedAt < b.manifest.collectedAt ? 1 : -1;
    })[0];
  const orphans = new Set<ParsedManifest>();
  for (const tip of tips) {
    if (tip === head) continue;
    const sibling = list.find(
      (other) =>
        other !== tip &&
        other.manifest.chain.sequence === tip.manifest.chain.sequence &&
        (hasSuccessor(other) || other === head),
    );
    if (!sibling) continue;
    orphans.add(tip);
    if (tip.manifest.verdict !== sibling.manifest.verdict) {
      problems.push({
        file: tip.path,
        controlId,
        periodKey: tip.manifest.period.key,
        code: 'orphan-conflict',
        message: `${tip.path} (sequence ${tip.manifest.chain.sequence}, verdict ${tip.manifest.verdict}) competes with ${sibling.path} (verdict ${sibling.manifest.verdict}) for the same place on the chain: a second signed outcome for one run, which a crash or a lost race cannot produce`,
      });
      continue;
    }
    notes.push({
      file: tip.path,
      controlId,
      periodKey: tip.manifest.period.key,
      code: 'orphan-manifest',
      message: `${tip.path} (sequence ${tip.manifest.chain.sequence}) is an orphan: ${sibling.path} took its place on the chain (a run that stopped before advancing the chain head, or lost a race, and was retried); its evidence is intact`,
    });
  }
  return { successors, entersRange, ...(head ? { head } : {}), orphans, problems, notes };
}
