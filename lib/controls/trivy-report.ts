import * as z from 'zod';
import { parseOrThrow } from '../shared/parse.ts';

/**
 * The parts of a Trivy JSON report (`trivy image --format json`, SchemaVersion 2) this product
 * reads. Unknown fields are allowed: Trivy adds fields between releases.
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
  SchemaVersion: z.number().int(),
  /** Present since Trivy 0.48; the object's LastModified stands in for older reports. */
  CreatedAt: z
    .string()
    .refine((value) => !Number.isNaN(Date.parse(value)), 'expected a date-time')
    .optional(),
  ArtifactName: z.string().optional(),
  Results: z
    .array(
      z.looseObject({
        Target: z.string(),
        Vulnerabilities: z.array(vulnerabilitySchema).nullish(),
      }),
    )
    .nullish(),
});

export class MalformedReportError extends Error {
  override name = 'MalformedReportError';
}

export interface Finding {
  readonly vulnerabilityId: string;
  readonly pkgName: string;
  readonly target: string;
  readonly severity: string;
  readonly installedVersion: string | null;
  readonly fixedVersion: string | null;
  readonly title: string | null;
}

export interface ScanReport {
  readonly key: string;
  /** Which image or filesystem was scanned; reports of one artifact form its history. */
  readonly artifact: string;
  readonly scannedAt: Date;
  /** Only findings of the severities the control watches. */
  readonly findings: readonly Finding[];
}

/** Parses one report; throws `MalformedReportError` naming what is wrong (not the key: the caller adds it). */
export function parseTrivyReport(
  text: string,
  meta: { key: string; lastModified: Date },
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
  const wanted = new Set(severities.map((s) => s.toUpperCase()));
  const findings: Finding[] = [];
  for (const result of report.Results ?? []) {
    for (const v of result.Vulnerabilities ?? []) {
      if (!wanted.has(v.Severity.toUpperCase())) continue;
      findings.push({
        vulnerabilityId: v.VulnerabilityID,
        pkgName: v.PkgName,
        target: result.Target,
        severity: v.Severity.toUpperCase(),
        installedVersion: v.InstalledVersion ?? null,
        fixedVersion: v.FixedVersion ?? null,
        title: v.Title ?? null,
      });
    }
  }
  const directory = meta.key.includes('/') ? meta.key.slice(0, meta.key.lastIndexOf('/')) : meta.key;
  return {
    key: meta.key,
    artifact: report.ArtifactName ?? directory,
    scannedAt: report.CreatedAt ? new Date(report.CreatedAt) : meta.lastModified,
    findings,
  };
}

/** VulnerabilityID + PkgName + Target identify "the same finding" across reports. */
export function findingKey(finding: Pick<Finding, 'vulnerabilityId' | 'pkgName' | 'target'>): string {
  return `${finding.target}\u0000${finding.vulnerabilityId}\u0000${finding.pkgName}`;
}

export interface OpenFinding extends Finding {
  readonly artifact: string;
  /** Scan time of the oldest report in the unbroken run of reports that contain it. */
  readonly firstSeen: string;
  /** True when even the oldest report read contains it: it may be older still. */
  readonly firstSeenAtLeast: boolean;
  /** Proven open time: newest report's scan time minus first seen. */
  readonly openHours: number;
  readonly pastSla: boolean;
  readonly reports: number;
}

export interface ArtifactHistory {
  readonly artifact: string;
  readonly reports: number;
  readonly newestReport: { readonly key: string; readonly scannedAt: string };
  readonly open: readonly OpenFinding[];
}

/**
 * For each artifact: the findings of its newest report, each dated by walking back through that
 * artifact's earlier reports while they still contain it. A finding that disappeared and came back
 * is dated from its return. A finding seen only in the newest report has been open 0 hours.
 */
export function assessOpenFindings(reports: readonly ScanReport[], slaMs: number): ArtifactHistory[] {
  const byArtifact = new Map<string, ScanReport[]>();
  for (const report of reports) {
    const list = byArtifact.get(report.artifact) ?? [];
    list.push(report);
    byArtifact.set(report.artifact, list);
  }
  const histories: ArtifactHistory[] = [];
  for (const [artifact, list] of [...byArtifact.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const ordered = [...list].sort(
      (a, b) => a.scannedAt.getTime() - b.scannedAt.getTime() || a.key.localeCompare(b.key),
    );
    const keySets = ordered.map((report) => new Set(report.findings.map(findingKey)));
    const newestIndex = ordered.length - 1;
    const newest = ordered[newestIndex] as ScanReport;
    const seen = new Set<string>();
    const open: OpenFinding[] = [];
    for (const finding of newest.findings) {
      const key = findingKey(finding);
      if (seen.has(key)) continue;
      seen.add(key);
      let first = newestIndex;
      while (first > 0 && keySets[first - 1]?.has(key)) first -= 1;
      const firstSeen = (ordered[first] as ScanReport).scannedAt;
      const openMs = newest.scannedAt.getTime() - firstSeen.getTime();
      open.push({
        ...finding,
        artifact,
        firstSeen: firstSeen.toISOString(),
        firstSeenAtLeast: first === 0,
        openHours: Math.round((openMs / 3_600_000) * 10) / 10,
        pastSla: openMs > slaMs,
        reports: newestIndex - first + 1,
      });
    }
    open.sort((a, b) => b.openHours - a.openHours || findingKey(a).localeCompare(findingKey(b)));
    histories.push({
      artifact,
      reports: ordered.length,
      newestReport: { key: newest.key, scannedAt: newest.scannedAt.toISOString() },
      open,
    });
  }
  return histories;
}
