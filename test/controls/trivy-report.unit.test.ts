import { describe, expect, it } from 'vitest';
import {
  assessOpenFindings,
  type FindingIdentityPart,
  findingKey,
  MalformedReportError,
  parseTrivyReport,
  repositoryOf,
  type ScanReport,
} from '../../lib/controls/trivy-report.ts';

const HOUR = 3_600_000;
const NOW = new Date('2026-11-30T00:00:00Z');

function reportJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    SchemaVersion: 2,
    CreatedAt: '2026-11-19T10:20:30.123456789+00:00',
    ArtifactName: 'registry.example/app:1.4',
    Results: [
      {
        Target: 'registry.example/app:1.4 (debian 12.5)',
        Class: 'os-pkgs',
        Vulnerabilities: [
          {
            VulnerabilityID: 'CVE-1',
            PkgName: 'openssl',
            Severity: 'critical',
            InstalledVersion: '1.0',
            FixedVersion: '1.1',
            Title: 't',
          },
          { VulnerabilityID: 'CVE-2', PkgName: 'zlib', Severity: 'HIGH' },
          { VulnerabilityID: 'CVE-3', PkgName: 'curl', Severity: 'LOW' },
        ],
      },
      { Target: 'app/package-lock.json', Class: 'lang-pkgs', Vulnerabilities: null },
    ],
    ...overrides,
  });
}

const parse = (text: string, key = 'scans/app/r.json', severities = ['CRITICAL', 'HIGH']) =>
  parseTrivyReport(text, { key, now: NOW }, severities);

function malformed(text: string): string {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedReportError);
    expect((error as Error).name).toBe('MalformedReportError');
    if ((error as Error).message.startsWith('not JSON'))
      expect((error as Error).cause).toBeInstanceOf(SyntaxError);
    return (error as Error).message;
  }
  throw new Error('expected MalformedReportError');
}

describe('parseTrivyReport', () => {
  it('reads the scan time from CreatedAt with nanoseconds, severities case-insensitively, and the repository', () => {
    const report = parse(reportJson());
    expect(report.scannedAt.toISOString()).toBe('2026-11-19T10:20:30.123Z');
    expect(report.artifact).toBe('registry.example/app:1.4');
    expect(report.repository).toBe('registry.example/app');
    expect(report.key).toBe('scans/app/r.json');
    // The classes scanned (a later report that skips one is a partial scan), once each, sorted.
    expect(report.classes).toEqual(['lang-pkgs', 'os-pkgs']);
    expect(report.findings).toEqual([
      {
        vulnerabilityId: 'CVE-1',
        pkgName: 'openssl',
        target: 'registry.example/app:1.4 (debian 12.5)',
        class: 'os-pkgs',
        severity: 'CRITICAL',
        installedVersion: '1.0',
        fixedVersion: '1.1',
        title: 't',
      },
      {
        vulnerabilityId: 'CVE-2',
        pkgName: 'zlib',
        target: 'registry.example/app:1.4 (debian 12.5)',
        class: 'os-pkgs',
        severity: 'HIGH',
        installedVersion: null,
        fixedVersion: null,
        title: null,
      },
    ]);
  });

  it('falls back to the key directory for the artifact when ArtifactName is absent', () => {
    const json = JSON.parse(reportJson());
    delete json.ArtifactName;
    expect(parse(JSON.stringify(json)).artifact).toBe('scans/app');
    expect(parse(JSON.stringify(json), 'flat.json').artifact).toBe('flat.json');
  });

  it.each([
    ['not JSON', '{', /^not JSON \(/],
    [
      'a bare schema version',
      '{"SchemaVersion":2}',
      /^not a Trivy JSON report: CreatedAt: missing.*Results: missing/,
    ],
    ['another schema version', reportJson({ SchemaVersion: 1 }), /SchemaVersion: expected one of 2/],
    ['a date that is not one', reportJson({ CreatedAt: 'yesterday' }), /CreatedAt: expected a date-time/],
    ['no Results', reportJson({ Results: null }), /Results: /],
    ['empty Results', reportJson({ Results: [] }), /Results: expected at least one scanned target/],
    ['a result without Class', reportJson({ Results: [{ Target: 'x' }] }), /Results\[0\]\.Class: missing/],
    [
      'a result without Target',
      reportJson({ Results: [{ Class: 'os-pkgs' }] }),
      /Results\[0\]\.Target: missing/,
    ],
    ['an empty Target', reportJson({ Results: [{ Target: '', Class: 'os-pkgs' }] }), /Results\[0\]\.Target/],
    ['an empty Class', reportJson({ Results: [{ Target: 'x', Class: '' }] }), /Results\[0\]\.Class/],
    ['an empty ArtifactName', reportJson({ ArtifactName: '' }), /ArtifactName/],
    [
      'a vulnerability without an id',
      reportJson({
        Results: [{ Target: 'x', Class: 'os-pkgs', Vulnerabilities: [{ PkgName: 'p', Severity: 'HIGH' }] }],
      }),
      /VulnerabilityID/,
    ],
    [
      'a vulnerability with an empty package',
      reportJson({
        Results: [
          {
            Target: 'x',
            Class: 'os-pkgs',
            Vulnerabilities: [{ VulnerabilityID: 'C', PkgName: '', Severity: 'HIGH' }],
          },
        ],
      }),
      /PkgName/,
    ],
    [
      'a vulnerability with an empty severity',
      reportJson({
        Results: [
          {
            Target: 'x',
            Class: 'os-pkgs',
            Vulnerabilities: [{ VulnerabilityID: 'C', PkgName: 'p', Severity: '' }],
          },
        ],
      }),
      /Severity/,
    ],
    [
      'a scan dated after the check',
      reportJson({ CreatedAt: '2026-11-30T00:00:01Z' }),
      /^CreatedAt 2026-11-30T00:00:01Z is after the time of the check \(2026-11-30T00:00:00.000Z\)$/,
    ],
  ])('rejects %s', (_, text, message) => {
    expect(malformed(text)).toMatch(message);
  });

  it('accepts a scan dated exactly at the check', () => {
    expect(parse(reportJson({ CreatedAt: '2026-11-30T00:00:00Z' })).scannedAt).toEqual(NOW);
  });
});

describe('repositoryOf', () => {
  it.each([
    ['registry.example/app:1.4', 'registry.example/app'],
    ['registry.example:5000/team/app:sha-1', 'registry.example:5000/team/app'],
    ['registry.example:5000/team/app@sha256:abc', 'registry.example:5000/team/app'],
    ['app:1.0@sha256:abc', 'app'],
    ['registry.example:5000/app', 'registry.example:5000/app'],
    ['app', 'app'],
  ])('%s -> %s', (artifact, repository) => {
    expect(repositoryOf(artifact)).toBe(repository);
  });
});

function report(
  key: string,
  day: number,
  ids: string[],
  artifact = 'img:1',
  extra: Partial<{ target: string; installedVersion: string }> = {},
): ScanReport {
  return {
    key,
    artifact,
    repository: repositoryOf(artifact),
    scannedAt: new Date(Date.UTC(2026, 10, day)),
    findings: ids.map((id) => ({
      vulnerabilityId: id,
      pkgName: 'pkg',
      target: extra.target ?? 't',
      class: 'os-pkgs',
      severity: 'CRITICAL',
      installedVersion: extra.installedVersion ?? null,
      fixedVersion: null,
      title: null,
    })),
  };
}
const day = (d: number) => new Date(Date.UTC(2026, 10, d));

describe('assessOpenFindings', () => {
  it('dates a finding that disappeared and came back from its return, open until the cutoff', () => {
    const [history] = assessOpenFindings(
      [report('a', 1, ['X']), report('b', 3, []), report('c', 4, ['X']), report('d', 5, ['X'])],
      48 * HOUR,
      { at: day(6) },
    );
    expect(history).toMatchObject({
      artifact: 'img',
      reports: 4,
      newestReport: { key: 'd', scannedAt: '2026-11-05T00:00:00.000Z' },
    });
    expect(history?.open).toEqual([
      expect.objectContaining({
        vulnerabilityId: 'X',
        artifact: 'img',
        firstSeen: '2026-11-04T00:00:00.000Z',
        firstSeenAtLeast: false,
        openHours: 48,
        pastSla: false,
        reports: 2,
      }),
    ]);
  });

  it('is past the SLA only when open longer than it', () => {
    const at = (hours: number) => new Date(day(1).getTime() + hours * HOUR);
    const open = (hours: number) =>
      assessOpenFindings([report('a', 1, ['X'])], 48 * HOUR, { at: at(hours) })[0]?.open[0];
    expect(open(48)).toMatchObject({ pastSla: false, openHours: 48, firstSeenAtLeast: true, reports: 1 });
    expect(open(48.0001)).toMatchObject({ pastSla: true });
    expect(open(-5)).toMatchObject({ openHours: 0, pastSla: false });
  });

  it('follows one finding across tags of a repository, and keeps repositories apart', () => {
    const histories = assessOpenFindings(
      [
        report('a', 1, ['X'], 'one:sha-1'),
        report('b', 3, ['X'], 'one:sha-2'),
        report('c', 5, ['X'], 'two:sha-3'),
      ],
      48 * HOUR,
      { at: day(5) },
    );
    expect(histories.map((h) => [h.artifact, h.reports, h.open[0]?.openHours])).toEqual([
      ['one', 2, 96],
      ['two', 1, 0],
    ]);
  });

  it('lists histories by name, whatever order the reports came in', () => {
    const histories = assessOpenFindings(
      [report('a', 1, ['X'], 'zeta:1'), report('b', 1, ['X'], 'alpha:1'), report('c', 1, ['X'], 'mid:1')],
      48 * HOUR,
      { at: day(2) },
    );
    expect(histories.map((h) => h.artifact)).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('keys by artifact, target or installed version when configured', () => {
    const reports = [
      report('a', 1, ['X'], 'one:sha-1', { target: 't1', installedVersion: '1' }),
      report('b', 3, ['X'], 'one:sha-2', { target: 't2', installedVersion: '2' }),
    ];
    const hoursWith = (identity: FindingIdentityPart[]) =>
      assessOpenFindings(reports, 48 * HOUR, { at: day(3), identity }).map((h) => [
        h.artifact,
        h.open[0]?.openHours,
      ]);
    expect(hoursWith(['artifact', 'package', 'vulnerability'])).toEqual([
      ['one:sha-1', 48],
      ['one:sha-2', 0],
    ]);
    expect(hoursWith(['repository', 'target', 'package', 'vulnerability'])).toEqual([['one', 0]]);
    expect(hoursWith(['repository', 'installedVersion', 'package', 'vulnerability'])).toEqual([['one', 0]]);
    expect(hoursWith(['repository', 'class', 'package', 'vulnerability'])).toEqual([['one', 48]]);
    expect(hoursWith(['package', 'vulnerability'])).toEqual([['(all reports)', 48]]);
  });

  it('lists a duplicated finding once and sorts the oldest first', () => {
    const [history] = assessOpenFindings(
      [report('a', 1, ['OLD']), report('b', 2, ['B', 'A', 'OLD', 'A'])],
      48 * HOUR,
      { at: day(2) },
    );
    expect(history?.open.map((f) => [f.vulnerabilityId, f.openHours])).toEqual([
      ['OLD', 24],
      ['A', 0],
      ['B', 0],
    ]);
  });

  it('orders reports of the same instant by key, so the newest is deterministic', () => {
    const [history] = assessOpenFindings([report('b', 2, ['X']), report('a', 2, [])], 48 * HOUR, {
      at: day(2),
    });
    expect(history?.newestReport.key).toBe('b');
    expect(history?.open).toHaveLength(1);
  });

  it('builds keys from the parts in order', () => {
    const r = report('a', 1, ['X'], 'repo:1');
    const finding = r.findings[0];
    if (!finding) throw new Error('fixture');
    expect(findingKey(finding, r)).toBe('repo\u0000pkg\u0000X');
    expect(findingKey(finding, r, ['artifact', 'target', 'class', 'installedVersion'])).toBe(
      'repo:1\u0000t\u0000os-pkgs\u0000',
    );
  });
});
