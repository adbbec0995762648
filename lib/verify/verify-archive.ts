import type { KeyObject } from 'node:crypto';
import type { Verdict } from '../controls/outcome.ts';
import {
  type DateRange,
  DUE_GRACE_MS,
  expectedPeriods,
  lastDayOf,
  periodBeforeRange,
  periodInRange,
} from '../evidence/coverage.ts';
import {
  MANIFEST_FILE,
  parseEvidenceKey,
  SIGNATURE_FILE,
  signatureKeyFor,
} from '../evidence/evidence-layout.ts';
import { EVIDENCE_PREFIX } from '../evidence/evidence-recorder.ts';
import { type Manifest, parseManifest } from '../evidence/manifest.ts';
import { parsePublicKey, publicKeyInfo } from '../evidence/signer.ts';
import { verifySignature } from '../evidence/verify-signature.ts';
import { EXPORT_INFO_FILE, type ExportInfo, exportInfoSchema } from '../export/export-info.ts';
import { type Cadence, periodFromKey } from '../shared/period.ts';
import type { ArchiveContents, ArchiveFile } from './archive-file.ts';
import { signatureCheckKey } from './signature-precheck.ts';

/** Everything `verify` can find wrong, one code per kind of tampering or gap. */
export type ProblemCode =
  | 'artifact-missing'
  | 'artifact-altered'
  | 'artifact-outside-run'
  | 'manifest-unreadable'
  | 'manifest-misplaced'
  | 'manifest-missing'
  | 'manifest-replaced'
  | 'manifest-resigned'
  | 'chain-broken'
  | 'period-missing'
  | 'chain-truncated'
  | 'signature-missing'
  | 'signature-invalid'
  | 'key-unknown'
  | 'key-invalid'
  | 'key-changed'
  | 'key-untrusted'
  | 'unexpected-file'
  | 'duplicate-entry'
  | 'report-altered'
  | 'report-missing'
  | 'export-info-invalid';

export interface Finding {
  readonly code: ProblemCode | 'orphan-manifest' | 'unused-key' | 'chain-before-range';
  /** The file the finding is about (bucket key form). */
  readonly file?: string;
  readonly controlId?: string;
  readonly periodKey?: string;
  /** One sentence: what is wrong and what it means. */
  readonly message: string;
}

export interface ControlSummary {
  readonly controlId: string;
  readonly cadence: string;
  readonly manifests: number;
  readonly orphans: number;
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly head?: { readonly sequence: number; readonly periodKey: string; readonly expiresAt: string };
  /** Periods in view: every period that was due, plus recorded ones in the range not yet due. */
  readonly expectedPeriods: number;
  /** Of those, the periods with a manifest on the chain. */
  readonly coveredPeriods: number;
  /** Periods that were due and have no manifest. */
  readonly missingPeriods: readonly string[];
  /** Verdict of each covered period (its latest run on the chain). */
  readonly verdicts: Readonly<Record<Verdict, number>>;
  readonly keys: readonly string[];
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

interface ParsedManifest {
  readonly path: string;
  readonly file: ArchiveFile;
  readonly manifest: Manifest;
  readonly signature?: string;
  referencedBy: ParsedManifest[];
  entersRange: boolean;
}

const short = (fingerprint: string) => `${fingerprint.slice(0, 16)}…`;

function describePeriods(keys: readonly string[]): string {
  return keys.length <= 6
    ? keys.join(', ')
    : `${keys.slice(0, 3).join(', ')} … ${keys.slice(-2).join(', ')} (${keys.length})`;
}

/**
 * Checks an archive or synced folder offline: every artifact against its manifest's SHA-256, every
 * manifest's signature against the published key, each control's chain (no manifest missing,
 * replaced, re-signed, moved or reordered) and coverage (a manifest for every period that was due),
 * and that nothing is there that no manifest lists. Pure: reads only `contents`.
 */
export function verifyArchive(contents: ArchiveContents, options: VerifyOptions = {}): VerificationReport {
  const problems: Finding[] = [];
  const notes: Finding[] = [];
  const problem = (finding: Finding) => problems.push(finding);
  const accounted = new Set<string>();
  const files = contents.files;

  for (const name of contents.irregular ?? []) {
    problem({
      code: 'unexpected-file',
      file: name,
      message: `${name}: unexpected entry, not a regular file (a symlink or device); not checked`,
    });
  }
  for (const name of contents.duplicates ?? []) {
    problem({
      code: 'duplicate-entry',
      file: name,
      message: `${name} occurs more than once in the archive; only one copy can be checked`,
    });
  }

  // export.json: the range the archive claims to cover and the reports it carries.
  let exportInfo: ExportInfo | undefined;
  const infoFile = files.get(EXPORT_INFO_FILE);
  if (infoFile) {
    accounted.add(EXPORT_INFO_FILE);
    try {
      exportInfo = exportInfoSchema.parse(JSON.parse(infoFile.content?.toString('utf8') ?? ''));
    } catch {
      problem({
        code: 'export-info-invalid',
        file: EXPORT_INFO_FILE,
        message: `${EXPORT_INFO_FILE} is not a valid export description`,
      });
    }
  }
  const range: DateRange = options.range ?? exportInfo?.range ?? {};
  const rangeFrom = options.range ? 'options' : exportInfo ? 'export.json' : 'none';
  const asOf = options.asOf ?? (exportInfo ? new Date(exportInfo.exportedAt) : (options.now ?? new Date()));
  const trusted = options.trustedKeys
    ? new Set(options.trustedKeys.map((key) => key.toLowerCase()))
    : undefined;

  // Public keys: the file name must be the fingerprint of what it holds.
  const keys = new Map<string, KeyObject>();
  const keyUse = new Map<string, number>();
  for (const file of files.values()) {
    const parsed = parseEvidenceKey(file.path);
    if (parsed?.kind !== 'public-key') continue;
    accounted.add(file.path);
    try {
      const key = parsePublicKey(file.content?.toString('utf8') ?? '');
      const info = publicKeyInfo(key);
      if (info.fingerprint !== parsed.fingerprint) {
        problem({
          code: 'key-invalid',
          file: file.path,
          message: `${file.path} holds the key ${short(info.fingerprint)}, not the key its name claims: the public key was replaced`,
        });
        continue;
      }
      keys.set(info.fingerprint, key);
    } catch (error) {
      problem({
        code: 'key-invalid',
        file: file.path,
        message: `${file.path} is not a P-256 public key (${(error as Error).message})`,
      });
    }
  }

  // Manifests: parse, signature, placement, artifacts.
  const manifests: ParsedManifest[] = [];
  const manifestPaths = new Set<string>();
  let artifactsChecked = 0;
  let signaturesValid = 0;
  for (const file of files.values()) {
    const location = parseEvidenceKey(file.path);
    if (location?.kind !== 'run-file' || location.file !== MANIFEST_FILE) continue;
    accounted.add(file.path);
    manifestPaths.add(file.path);
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
      accounted.add(signaturePath);
      signature = signatureFile.content.toString('utf8').trim();
      const key = keys.get(fingerprint);
      if (!key) {
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

    // Artifacts.
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
      accounted.add(artifact.key);
      artifactsChecked += 1;
      if (stored.sha256 !== artifact.sha256 || stored.size !== artifact.size) {
        problem({
          ...who,
          code: 'artifact-altered',
          file: artifact.key,
          message: `${artifact.key}: SHA-256 ${stored.sha256.slice(0, 16)}… (${stored.size} bytes) differs from ${artifact.sha256.slice(0, 16)}… (${artifact.size} bytes) sealed in ${file.path}: altered after it was recorded`,
        });
      }
    }
    manifests.push({
      path: file.path,
      file,
      manifest,
      ...(signature ? { signature } : {}),
      referencedBy: [],
      entersRange: false,
    });
  }

  // Chains, per control.
  const byControl = new Map<string, ParsedManifest[]>();
  for (const parsed of manifests) {
    const list = byControl.get(parsed.manifest.control.id) ?? [];
    list.push(parsed);
    byControl.set(parsed.manifest.control.id, list);
  }
  const isTrusted = (fingerprint: string) => trusted?.has(fingerprint) === true;
  const drafts: Omit<ControlSummary, 'problems' | 'ok'>[] = [];
  for (const [controlId, list] of [...byControl].sort(([a], [b]) => (a < b ? -1 : 1))) {
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
        linked.referencedBy.push(parsed);
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
      try {
        const period = periodFromKey(manifest.period.cadence, previous.periodKey, manifest.period.timeZone);
        predecessorBeforeRange = periodBeforeRange(period, range);
      } catch {
        predecessorBeforeRange = false;
      }
      if (predecessorBeforeRange) {
        parsed.entersRange = true;
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
    const tips = list.filter((parsed) => parsed.referencedBy.length === 0);
    const highest = Math.max(...list.map((parsed) => parsed.manifest.chain.sequence));
    const headCandidates = tips
      .filter((parsed) => parsed.manifest.chain.sequence === highest)
      .sort((a, b) => (a.manifest.collectedAt < b.manifest.collectedAt ? 1 : -1));
    const head = headCandidates[0];
    const orphans = new Set<ParsedManifest>();
    for (const tip of tips) {
      if (tip === head) continue;
      const sibling = list.find(
        (other) =>
          other !== tip &&
          other.manifest.chain.sequence === tip.manifest.chain.sequence &&
          (other.referencedBy.length > 0 || other === head),
      );
      if (!sibling) continue;
      orphans.add(tip);
      notes.push({
        file: tip.path,
        controlId,
        periodKey: tip.manifest.period.key,
        code: 'orphan-manifest',
        message: `${tip.path} (sequence ${tip.manifest.chain.sequence}) is an orphan: ${sibling.path} took its place on the chain (a run that stopped before advancing the chain head, or lost a race, and was retried); its evidence is intact`,
      });
    }

    // Coverage: a manifest for every period that was due.
    const chained = list.filter((parsed) => !orphans.has(parsed));
    const latest = chained.reduce((a, b) => (b.manifest.chain.sequence > a.manifest.chain.sequence ? b : a));
    const cadence = latest.manifest.period.cadence as Cadence;
    const timeZone = latest.manifest.period.timeZone;
    const lowest = chained.reduce((a, b) => (b.manifest.chain.sequence < a.manifest.chain.sequence ? b : a));
    const earliest = chained.reduce((a, b) => (b.manifest.period.start < a.manifest.period.start ? b : a));
    const firstKey = lowest.entersRange ? undefined : earliest.manifest.period.key;
    const expected = expectedPeriods({
      cadence,
      timeZone,
      range,
      asOf,
      graceMs: options.graceMs ?? DUE_GRACE_MS,
      ...(firstKey ? { firstKey } : {}),
    });
    const latestPerPeriod = new Map<string, ParsedManifest>();
    for (const parsed of chained) {
      const current = latestPerPeriod.get(parsed.manifest.period.key);
      if (!current || parsed.manifest.chain.sequence > current.manifest.chain.sequence) {
        latestPerPeriod.set(parsed.manifest.period.key, parsed);
      }
    }
    const missing = expected.filter((period) => !latestPerPeriod.has(period.key));
    const lastCovered = expected.reduce(
      (index, period, i) => (latestPerPeriod.has(period.key) ? i : index),
      -1,
    );
    const trailing = missing.filter((period) => expected.indexOf(period) > lastCovered);
    const gaps = missing.filter((period) => expected.indexOf(period) < lastCovered);
    for (const period of gaps) {
      problem({
        controlId,
        periodKey: period.key,
        code: 'period-missing',
        message: `${controlId}, ${cadence} period ${period.key}: no manifest, though the period closed on ${lastDayOf(period)}: its run never happened or its evidence was removed`,
      });
    }
    if (trailing.length > 0) {
      const last = latestPerPeriod.get(expected[lastCovered]?.key ?? '') ?? latest;
      problem({
        controlId,
        periodKey: trailing[0]?.key,
        code: 'chain-truncated',
        message: `${controlId}: the chain ends at sequence ${head?.manifest.chain.sequence ?? last.manifest.chain.sequence} (period ${last.manifest.period.key}, expired ${last.manifest.expiresAt}) but ${cadence} period(s) ${describePeriods(trailing.map((period) => period.key))} were due by ${asOf.toISOString()}: the chain's end was removed, or those runs never happened`,
      });
    }
    // Periods shown: every period that was due, plus any recorded in the range that is not due yet.
    const verdicts: Record<Verdict, number> = { pass: 0, fail: 0, error: 0 };
    const shown = new Set(expected.map((period) => period.key));
    for (const [key, parsed] of latestPerPeriod) {
      if (shown.has(key) || periodInRange(parsed.manifest.period, range)) {
        shown.add(key);
        verdicts[parsed.manifest.verdict] += 1;
      }
    }
    const sequences = list.map((parsed) => parsed.manifest.chain.sequence);
    drafts.push({
      controlId,
      cadence,
      manifests: list.length,
      orphans: orphans.size,
      firstSequence: Math.min(...sequences),
      lastSequence: Math.max(...sequences),
      ...(head
        ? {
            head: {
              sequence: head.manifest.chain.sequence,
              periodKey: head.manifest.period.key,
              expiresAt: head.manifest.expiresAt,
            },
          }
        : {}),
      expectedPeriods: shown.size,
      coveredPeriods: shown.size - missing.length,
      missingPeriods: missing.map((period) => period.key),
      verdicts,
      keys: [...new Set(list.map((parsed) => parsed.manifest.signing.keyFingerprint))],
    });
  }

  // Anything else under evidence/ that no manifest accounts for.
  const sealedFolders = new Set(
    [...manifestPaths].map((path) => path.slice(0, path.length - MANIFEST_FILE.length)),
  );
  for (const file of files.values()) {
    if (accounted.has(file.path)) continue;
    if (file.path.startsWith(EVIDENCE_PREFIX)) {
      const location = parseEvidenceKey(file.path);
      const folder = location?.kind === 'run-file' ? location.runPrefix : undefined;
      const why =
        folder && sealedFolders.has(folder)
          ? `not listed by ${folder}${MANIFEST_FILE}: added after the run was sealed`
          : folder
            ? 'in a run folder without a manifest: never sealed (a run that stopped before writing its manifest) or added'
            : 'outside the evidence layout: added';
      problem({
        file: file.path,
        ...(location?.kind === 'run-file'
          ? { controlId: location.controlId, periodKey: location.periodKey }
          : {}),
        code: 'unexpected-file',
        message: `${file.path}: unexpected file, ${why}`,
      });
      continue;
    }
    const report = exportInfo?.reports.find((candidate) => candidate.path === file.path);
    if (!report) {
      problem({
        file: file.path,
        code: 'unexpected-file',
        message: `${file.path}: unexpected file, not part of the export`,
      });
    } else if (report.sha256 !== file.sha256) {
      problem({
        file: file.path,
        code: 'report-altered',
        message: `${file.path}: differs from the report the export wrote (SHA-256 ${file.sha256.slice(0, 16)}…, expected ${report.sha256.slice(0, 16)}…)`,
      });
    }
  }
  for (const report of exportInfo?.reports ?? []) {
    if (!files.has(report.path)) {
      problem({
        file: report.path,
        code: 'report-missing',
        message: `${report.path}: listed in ${EXPORT_INFO_FILE} but missing`,
      });
    }
  }
  for (const fingerprint of keys.keys()) {
    if (!keyUse.has(fingerprint)) {
      notes.push({
        code: 'unused-key',
        file: `${EVIDENCE_PREFIX}_public-keys/${fingerprint}.pem`,
        message: `public key ${short(fingerprint)} signs no manifest in the archive`,
      });
    }
  }

  const controls: ControlSummary[] = drafts.map((draft) => {
    const count = problems.filter((finding) => finding.controlId === draft.controlId).length;
    return { ...draft, problems: count, ok: count === 0 };
  });
  return {
    ok: problems.length === 0,
    source: contents.source,
    kind: contents.kind,
    files: files.size,
    bytes: contents.bytes,
    range,
    rangeFrom,
    asOf: asOf.toISOString(),
    artifactsChecked,
    manifestsChecked: manifests.length,
    signaturesValid,
    keys: [...keyUse].map(([fingerprint, count]) => ({
      fingerprint,
      manifests: count,
      trusted: trusted ? trusted.has(fingerprint) : null,
    })),
    controls,
    problems,
    notes,
    ...(exportInfo ? { exportInfo } : {}),
  };
}
