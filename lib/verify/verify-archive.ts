import type { ChainKind } from '../evidence/chain-head-store.ts';
import type { DateRange } from '../evidence/coverage.ts';
import { EXPORT_INFO_FILE, type ExportInfo } from '../export/export-info.ts';
import type { ArchiveContents } from './archive-file.ts';
import { checkChain } from './check-chain.ts';
import { checkCheckpoints, checkPinned } from './check-checkpoints.ts';
import { type ControlDraft, checkCoverage, expectedPeriodsOnce } from './check-coverage.ts';
import { checkEntries } from './check-entries.ts';
import { checkManifests, type ParsedManifest } from './check-manifests.ts';
import { checkPopulations } from './check-populations.ts';
import { checkUnaccounted } from './check-unaccounted.ts';
import type { Finding } from './findings.ts';
import { readExportInfo } from './read-export-info.ts';
import { readPublicKeys } from './read-public-keys.ts';

export type { Finding, NoteCode, ProblemCode } from './findings.ts';

export interface ControlSummary extends ControlDraft {
  readonly problems: number;
  readonly ok: boolean;
}

export interface VerificationReport {
  readonly ok: boolean;
  readonly source: string;
  readonly kind: ArchiveContents['kind'];
  readonly files: number;
  readonly bytes: number;
  readonly range: DateRange;
  readonly rangeFrom: 'options' | 'export.json' | 'none';
  readonly asOf: string;
  readonly artifactsChecked: number;
  readonly manifestsChecked: number;
  /** Populations listed by the manifests whose entry and line count were checked. */
  readonly populationsChecked: number;
  readonly signaturesValid: number;
  /** Every signing key seen, with how many manifests it signed; compare with the account's key. */
  readonly keys: readonly {
    readonly fingerprint: string;
    readonly manifests: number;
    readonly trusted: boolean | null;
  }[];
  readonly controls: readonly ControlSummary[];
  readonly problems: readonly Finding[];
  readonly notes: readonly Finding[];
  readonly exportInfo?: ExportInfo;
}

export interface VerifyOptions {
  /** Overrides the range recorded in export.json. */
  readonly range?: DateRange;
  /** The moment periods must have been due by; defaults to export.json's `exportedAt`, then `now`. */
  readonly asOf?: Date;
  /** Pinned key fingerprints (hex SHA-256 of the SPKI): manifests signed by any other key fail. */
  readonly trustedKeys?: readonly string[];
  readonly graceMs?: number;
  readonly now?: Date;
  /** Signature checks already done elsewhere (see SignaturePrecheck), by {@link signatureCheckKey}. */
  readonly signatureResults?: ReadonlyMap<string, boolean>;
}

/**
 * Checks an archive or synced folder offline: every artifact against its manifest's SHA-256, every
 * manifest's signature against the published key, each control's chain (no manifest missing,
 * replaced, re-signed, moved or reordered) and coverage (a manifest for every period that was due),
 * and that nothing is there that no manifest lists. Pure: reads only `contents`. Each phase is its
 * own pure function; this only runs them in order and assembles the report.
 */
export function verifyArchive(contents: ArchiveContents, options: VerifyOptions = {}): VerificationReport {
  return verifyArchiveParsed(contents, options).report;
}

/** {@link verifyArchive}, with the manifests it parsed (by path), for the report check after it. */
export function verifyArchiveParsed(
  contents: ArchiveContents,
  options: VerifyOptions = {},
): { readonly report: VerificationReport; readonly manifests: ReadonlyMap<string, ParsedManifest> } {
  const { files } = contents;
  const problems: Finding[] = [...checkEntries(contents)];
  const notes: Finding[] = [];
  const accounted = new Set<string>();
  const take = (phase: { readonly problems: readonly Finding[]; readonly notes?: readonly Finding[] }) => {
    problems.push(...phase.problems);
    notes.push(...(phase.notes ?? []));
  };

  const info = readExportInfo(files);
  take(info);
  const { exportInfo } = info;
  if (info.present) accounted.add(EXPORT_INFO_FILE);
  const range: DateRange = options.range ?? exportInfo?.range ?? {};
  const rangeFrom = options.range ? 'options' : exportInfo ? 'export.json' : 'none';
  const asOf = options.asOf ?? (exportInfo ? new Date(exportInfo.exportedAt) : (options.now ?? new Date()));
  const trusted = options.trustedKeys
    ? new Set(options.trustedKeys.map((key) => key.toLowerCase()))
    : undefined;

  const publicKeys = readPublicKeys(files);
  take(publicKeys);
  for (const path of publicKeys.accounted) accounted.add(path);

  const checkpoints = checkCheckpoints({
    files,
    keys: publicKeys.keys,
    ...(trusted ? { trusted } : {}),
    range,
    asOf,
  });
  take(checkpoints);
  for (const path of checkpoints.accounted) accounted.add(path);

  const checked = checkManifests(files, publicKeys.keys, {
    ...(trusted ? { trusted } : {}),
    ...(options.signatureResults ? { signatureResults: options.signatureResults } : {}),
  });
  take(checked);
  for (const path of checked.accounted) accounted.add(path);
  const populations = checkPopulations(checked.manifests, files);
  take({ problems: populations.problems });

  // One chain per control and kind; a control a checkpoint declares has a chain even with no manifest.
  const chainId = (controlId: string, kind: ChainKind) => `${controlId}\u0000${kind}`;
  const byChain = new Map<string, { controlId: string; kind: ChainKind; list: ParsedManifest[] }>();
  const chainOf = (controlId: string, kind: ChainKind) => {
    const id = chainId(controlId, kind);
    let entry = byChain.get(id);
    if (!entry) {
      entry = { controlId, kind, list: [] };
      byChain.set(id, entry);
    }
    return entry;
  };
  for (const parsed of checked.manifests) {
    chainOf(parsed.manifest.control.id, parsed.manifest.chain.kind ?? 'scheduled').list.push(parsed);
  }
  for (const controlId of checkpoints.controls.keys()) chainOf(controlId, 'scheduled');
  const isTrusted = (fingerprint: string) => trusted?.has(fingerprint) === true;
  const pinned = new Set(checkpoints.pinned.keys());
  const timeZone = checkpoints.newest?.checkpoint.timeZone ?? 'UTC';
  const drafts: ControlDraft[] = [];
  const reported = new Set<string>();
  const periodsOwed = expectedPeriodsOnce();
  const ordered = [...byChain.values()].sort((a, b) =>
    a.controlId < b.controlId ? -1 : a.controlId > b.controlId ? 1 : a.kind < b.kind ? 1 : -1,
  );
  for (const { controlId, kind, list } of ordered) {
    const chain = checkChain({ controlId, manifests: list, files, range, isTrusted, pinned });
    take(chain);
    for (const finding of chain.problems) reported.add(`${finding.code}:${finding.file}`);
    const declaredControl = checkpoints.controls.get(controlId);
    const coverage = checkCoverage({
      controlId,
      chainKind: kind,
      manifests: list,
      ...(declaredControl
        ? { declared: { cadence: declaredControl.cadence, timeZone, addedOn: declaredControl.addedOn } }
        : {}),
      chain,
      range,
      asOf,
      ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
      periodsOwed,
    });
    take(coverage);
    drafts.push(coverage.draft);
  }
  // What the checkpoints listed must be here, unless a chain check already named it.
  take({
    problems: checkPinned(checkpoints.pinned, files).filter(
      (finding) => !reported.has(`${finding.code}:${finding.file}`),
    ),
  });

  take(
    checkUnaccounted({
      files,
      accounted,
      manifestPaths: checked.manifestPaths,
      ...(exportInfo ? { exportInfo } : {}),
      keys: publicKeys.keys.keys(),
      keyUse: checked.keyUse,
    }),
  );

  const controls: ControlSummary[] = drafts.map((draft) => {
    const count = problems.filter((finding) => finding.controlId === draft.controlId).length;
    return { ...draft, problems: count, ok: count === 0 };
  });
  const report: VerificationReport = {
    ok: problems.length === 0,
    source: contents.source,
    kind: contents.kind,
    files: files.size,
    bytes: contents.bytes,
    range,
    rangeFrom,
    asOf: asOf.toISOString(),
    artifactsChecked: checked.artifactsChecked,
    manifestsChecked: checked.manifests.length,
    populationsChecked: populations.populationsChecked,
    signaturesValid: checked.signaturesValid,
    keys: [...checked.keyUse].map(([fingerprint, count]) => ({
      fingerprint,
      manifests: count,
      trusted: trusted ? trusted.has(fingerprint) : null,
    })),
    controls,
    problems,
    notes,
    ...(exportInfo ? { exportInfo } : {}),
  };
  return { report, manifests: new Map(checked.manifests.map((parsed) => [parsed.path, parsed])) };
}
