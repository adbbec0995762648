import * as z from 'zod';
import { parseOrThrow } from '../shared/parse.ts';

/**
 * The parts of a Trivy JSON report (`trivy image --format json`, SchemaVersion 2) this product
 * reads. Unknown fields are allowed (Trivy adds fields between releases), but what the verdict
 * depends on is required: a report without `CreatedAt` or `Results` proves no scan, and a result
 * without its target and class cannot be told apart from another.
 */
const vulnerabilitySchema = z.looseObject({
  VulnerabilityID: z.string().min(1),
  PkgName: z.string().min(1),
  Severity: z.string().min(1),
  InstalledVersion: z.string().optional(),
  FixedVersion: z.string().optional(),
  Title: z.string().optional(),
});

const trivyReportSchema = z.looseObject({
  SchemaVersion: z.literal(2),
  CreatedAt: z
    .string()
    .refine((value) => !Number.isNaN(Date.parse(value)), 'expected a date-time')
    .describe('Trivy >= 0.48 writes it; without it the scan time is unknown (upload time is not scan time).'),
  ArtifactName: z.string().min(1).optional(),
  Results: z
    .array(
      z.looseObject({
        Target: z.string().min(1),
        Class: z.string().min(1),
        Vulnerabilities: z.array(vulnerabilitySchema).nullish(),
      }),
    )
    .min(1, 'expected at least one scanned target'),
});

export class MalformedReportError extends Error {
  override name = 'MalformedReportError';
}

export interface Finding {
  readonly vulnerabilityId: string;
  readonly pkgName: string;
  readonly target: string;
  readonly class: string;
  readonly severity: string;
  readonly installedVersion: string | null;
  readonly fixedVersion: string | null;
  readonly title: string | null;
}

export interface ScanReport {
  readonly key: string;
  /** Which image or filesystem was scanned, as Trivy names it (`registry/app:sha-1234`). */
  readonly artifact: string;
  /** The artifact without its tag or digest: per-commit tags of one image share it. */
  readonly repository: string;
  readonly scannedAt: Date;
  /** The classes of targets scanned (`os-pkgs`, `lang-pkgs`, ...), sorted: what the report covers. */
  readonly classes?: readonly string[];
  /** Only findings of the severities the control watches. */
  readonly findings: readonly Finding[];
}

/**
 * `registry:5000/team/app:sha-1` and `registry:5000/team/app@sha256:...` -> `registry:5000/team/app`.
 * A colon is a tag separator only after the last slash (before it, it is the registry's port).
 */
export function repositoryOf(artifact: string): string {
  const withoutDigest = artifact.includes('@') ? artifact.slice(0, artifact.indexOf('@')) : artifact;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const tagColon = withoutDigest.indexOf(':', lastSlash + 1);
  return tagColon === -1 ? withoutDigest : withoutDigest.slice(0, tagColon);
}

/**
 * Parses one report; throws `MalformedReportError` naming what is wrong (not the key: the caller
 * adds it). A report dated after `meta.now` (the check's clock) is rejected: a scan cannot have
 * happened in the future, so its date is wrong or forged.
 */
export function parseTrivyReport(
  text: string,
  meta: { key: string; now: Date },
  severities: readonly string[],
): ScanReport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MalformedReportError(`not JSON (${(error as Error).message})`, { cause: error });
  }
  const report = parseOrThrow(
    trivyReportSchema,
    json,
    (message) => new MalformedReportError(message),
    'not a Trivy JSON report',
    3,
  );
  const scannedAt = new Date(report.CreatedAt);
  if (scannedAt.getTime() > meta.now.getTime()) {
    throw new MalformedReportError(
      `CreatedAt ${report.CreatedAt} is after the time of the check (${meta.now.toISOString()})`,
    );
  }
  const wanted = new Set(severities.map((s) => s.toUpperCase()));
  const findings: Finding[] = [];
  for (const result of report.Results) {
    for (const v of result.Vulnerabilities ?? []) {
      if (!wanted.has(v.Severity.toUpperCase())) continue;
      findings.push({
        vulnerabilityId: v.VulnerabilityID,
        pkgName: v.PkgName,
        target: result.Target,
        class: result.Class,
        severity: v.Severity.toUpperCase(),
        installedVersion: v.InstalledVersion ?? null,
        fixedVersion: v.FixedVersion ?? null,
        title: v.Title ?? null,
      });
    }
  }
  const directory = meta.key.includes('/') ? meta.key.slice(0, meta.key.lastIndexOf('/')) : meta.key;
  const artifact = report.ArtifactName ?? directory;
  const classes = [...new Set(report.Results.map((result) => result.Class))].sort();
  return { key: meta.key, artifact, repository: repositoryOf(artifact), scannedAt, classes, findings };
}

/** The parts that may identify "the same finding" across reports. */
export const FINDING_IDENTITY_PARTS = [
  'repository',
  'artifact',
  'target',
  'class',
  'package',
  'vulnerability',
  'installedVersion',
] as const;
export type FindingIdentityPart = (typeof FINDING_IDENTITY_PARTS)[number];
/** Repository + package + vulnerability: the same CVE in the same package of the same image, whatever the tag. */
export const DEFAULT_FINDING_IDENTITY: readonly FindingIdentityPart[] = [
  'repository',
  'package',
  'vulnerability',
];

function identityValue(
  finding: Finding,
  report: Pick<ScanReport, 'artifact' | 'repository'>,
  part: FindingIdentityPart,
) {
  switch (part) {
    case 'repository':
      return report.repository;
    case 'artifact':
      return report.artifact;
    case 'target':
      return finding.target;
    case 'class':
      return finding.class;
    case 'package':
      return finding.pkgName;
    case 'vulnerability':
      return finding.vulnerabilityId;
    case 'installedVersion':
      return finding.installedVersion ?? '';
  }
}

/** The identity of a finding under the configured key parts. */
export function findingKey(
  finding: Finding,
  report: Pick<ScanReport, 'artifact' | 'repository'>,
  identity: readonly FindingIdentityPart[] = DEFAULT_FINDING_IDENTITY,
): string {
  return identity.map((part) => identityValue(finding, report, part)).join('\u0000');
}

export interface OpenFinding extends Finding {
  /** The history the finding belongs to: its repository (or artifact, when the key has one). */
  readonly artifact: string;
  /** Scan time of the oldest report in the unbroken run of reports that contain it. */
  readonly firstSeen: string;
  /** True when even the oldest report read contains it: it may be older still. */
  readonly firstSeenAtLeast: boolean;
  /** Proven open time: the cutoff minus first seen (no later scan shows it fixed). */
  readonly openHours: number;
  readonly pastSla: boolean;
  readonly reports: number;
}

export interface ArtifactHistory {
  /** The repository, or the artifact when the identity key includes it. */
  readonly artifact: string;
  readonly reports: number;
  readonly newestReport: { readonly key: string; readonly scannedAt: string };
  readonly open: readonly OpenFinding[];
}

/** Which reports form one history: per artifact when the key names it, else per repository. */
export function historyOf(
  report: Pick<ScanReport, 'artifact' | 'repository'>,
  identity: readonly FindingIdentityPart[],
): string {
  if (identity.includes('artifact')) return report.artifact;
  if (identity.includes('repository')) return report.repository;
  return '(all reports)';
}

/**
 * For each history (repository, by default): the findings of its newest report, each dated by
 * walking back through the earlier reports while they still contain it, and open until `at` (the
 * period cutoff): nothing after the newest report shows it fixed. A finding that disappeared and
 * came back is dated from its return.
 */
export function assessOpenFindings(
  reports: readonly ScanReport[],
  slaMs: number,
  options: { at: Date; identity?: readonly FindingIdentityPart[] },
): ArtifactHistory[] {
  const identity = options.identity ?? DEFAULT_FINDING_IDENTITY;
  const byHistory = new Map<string, ScanReport[]>();
  for (const report of reports) {
    const name = historyOf(report, identity);
    const list = byHistory.get(name) ?? [];
    list.push(report);
    byHistory.set(name, list);
  }
  const histories: ArtifactHistory[] = [];
  for (const [name, list] of [...byHistory.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const ordered = [...list].sort(
      (a, b) => a.scannedAt.getTime() - b.scannedAt.getTime() || a.key.localeCompare(b.key),
    );
    const keySets = ordered.map(
      (report) => new Set(report.findings.map((finding) => findingKey(finding, report, identity))),
    );
    const newestIndex = ordered.length - 1;
    const newest = ordered[newestIndex] as ScanReport;
    const seen = new Set<string>();
    const open: OpenFinding[] = [];
    for (const finding of newest.findings) {
      const key = findingKey(finding, newest, identity);
      if (seen.has(key)) continue;
      seen.add(key);
      let first = newestIndex;
      while (first > 0 && keySets[first - 1]?.has(key)) first -= 1;
      const firstSeen = (ordered[first] as ScanReport).scannedAt;
      const openMs = Math.max(0, options.at.getTime() - firstSeen.getTime());
      open.push({
        ...finding,
        artifact: name,
        firstSeen: firstSeen.toISOString(),
        firstSeenAtLeast: first === 0,
        openHours: Math.round((openMs / 3_600_000) * 10) / 10,
        pastSla: openMs > slaMs,
        reports: newestIndex - first + 1,
      });
    }
    open.sort(
      (a, b) =>
        b.openHours - a.openHours ||
        findingKey(a, newest, identity).localeCompare(findingKey(b, newest, identity)),
    );
    histories.push({
      artifact: name,
      reports: ordered.length,
      newestReport: { key: newest.key, scannedAt: newest.scannedAt.toISOString() },
      open,
    });
  }
  return histories;
}
