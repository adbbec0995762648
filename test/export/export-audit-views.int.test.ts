import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import { parseReportInputs } from '../../lib/export/report-inputs.ts';
import type { VerificationReport } from '../../lib/verify/verify-archive.ts';
import { verifyPath } from '../../lib/verify/verify-path.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import {
  exportYear,
  replaceReport,
  SIGN_OFF_DATES,
  seedSignOffs,
  seedYear,
  writeZip,
  zipEntries,
} from './export-fixture.ts';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

let env: TestEnvironment;
let work: string;
let config: Config;
let baseZip: string;
let base: VerificationReport;
let entries: Map<string, Buffer>;

const schemaValidator = (file: string): ValidateFunction => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(new URL(`../fixtures/oscal/${file}`, import.meta.url), 'utf8')));
};

const problemsOf = (report: VerificationReport) =>
  report.problems.map((p) => `${p.code} ${p.file ?? p.controlId ?? ''}`).sort();

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  work = await mkdtemp(join(tmpdir(), 'soc2-views-'));
  config = await loadConfig('soc2-evidence.yaml');
  await seedYear(env);
  await seedSignOffs(env, config);
  baseZip = join(work, 'base.zip');
  await exportYear(env, baseZip, { config });
  base = await verifyPath(baseZip);
  entries = await zipEntries(baseZip);
});

afterAll(async () => {
  await env?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const json = (name: string) => JSON.parse(entries.get(name)?.toString() ?? 'null');

async function verifyEdited(edit: (copy: Map<string, Buffer>) => void): Promise<VerificationReport> {
  const copy = new Map(entries);
  edit(copy);
  const path = join(work, `edited-${Math.random().toString(16).slice(2)}.zip`);
  await writeZip(path, copy);
  return verifyPath(path);
}

describe('the export with a config: audit views beside the evidence', () => {
  it('holds report-inputs, coverage, readiness, heat map, sign-offs and the POA&M, and verify accepts them', () => {
    const info = json('export.json') as { reports: { path: string }[] };
    expect(info.reports.map((r) => r.path)).toEqual([
      'report-inputs.json',
      'index.html',
      'oscal/assessment-results.json',
      'VERIFY.md',
      'sign-offs.json',
      'coverage.json',
      'readiness.json',
      'risk-heat-map.json',
      'oscal/poam.json',
    ]);
    // Only the two periods the fixture never ran: nothing about the reports.
    expect(problemsOf(base)).toEqual(['chain-truncated access-review', 'chain-truncated audit-log']);
    expect(parseReportInputs(entries.get('report-inputs.json') ?? Buffer.alloc(0)).controls).toHaveLength(
      config.controls.length,
    );
  });

  it('computes readiness from the archived verdicts: access reviews not ready (Q2 failed, Q4 never ran)', () => {
    const readiness = json('readiness.json') as {
      asOf: string;
      items: { id: string; status: string; reasons: string[] }[];
    };
    // The window ends with the range (2026-12-31), not at the export date.
    expect(readiness.asOf).toBe('2027-01-01T00:00:00.000Z');
    const access = readiness.items.find((item) => item.id === 'access-reviews');
    expect(access?.status).toBe('not-ready');
    expect(access?.reasons.join('\n')).toMatch(/2026-Q2: no passing verdict; access-review failed 2026-Q2/);
    expect(new Set(readiness.items.map((item) => item.status))).toEqual(new Set(['not-ready', 'unknown']));
  });

  it('lists the criteria nothing in the archive evidences in coverage.json', () => {
    const coverage = json('coverage.json') as {
      notEvidenced: string[];
      criteria: { id: string; state: string }[];
    };
    expect(coverage.criteria.find((c) => c.id === 'CC6.1')?.state).toBe('passing');
    expect(coverage.notEvidenced).toEqual(expect.arrayContaining(['CC1.1', 'CC2.1']));
    expect(coverage.notEvidenced).not.toContain('CC6.1');
  });

  it('carries each sign-off with who, when, role, register hash and what changed, bound to its signed document', () => {
    const doc = json('sign-offs.json') as {
      signOffs: {
        by: string;
        role: string;
        signedAt: string;
        hashes: { name: string; sha256: string }[];
        changes: string[];
        documentVerified: boolean;
        evidence: { manifestKey: string; document: string };
      }[];
    };
    expect(doc.signOffs.map((s) => [s.by, s.role, s.signedAt, s.documentVerified])).toEqual([
      ['Dana Lee', 'Security Officer', new Date(SIGN_OFF_DATES[0]).toISOString(), true],
      ['Sam Ortiz', 'Security Officer', new Date(SIGN_OFF_DATES[1]).toISOString(), true],
    ]);
    expect(doc.signOffs[1]?.changes).toEqual(['R2 likelihood: 3 → 4']);
    expect(doc.signOffs[1]?.hashes.map((h) => h.name)).toEqual(['registerSha256']);
    for (const signOff of doc.signOffs) expect(entries.has(signOff.evidence.manifestKey)).toBe(true);
    const html = entries.get('index.html')?.toString() ?? '';
    expect(html).toContain('id="sign-offs"');
    expect(html).toContain('R2 likelihood: 3 → 4');
  });

  it('writes a POA&M valid against the OSCAL 1.0.4 schema with the sign-offs as risk-log entries', () => {
    const poam = json('oscal/poam.json');
    const validate = schemaValidator('oscal_poam_schema.json');
    expect(validate(poam), JSON.stringify(validate.errors)).toBe(true);
    const risks = poam['plan-of-action-and-milestones'].risks as {
      title: string;
      'risk-log'?: { entries: { title: string; description: string; start: string }[] };
    }[];
    // R9 (partial) is on the POA&M; both sign-offs froze it, neither changed it.
    const r9 = risks.find((risk) => risk.title.startsWith('R9:'));
    expect(r9?.['risk-log']?.entries.map((e) => [e.title, e.start])).toEqual([
      ['Reviewed by Dana Lee (Security Officer)', '2026-08-14T10:00:00Z'],
      ['Reviewed by Sam Ortiz (Security Officer)', '2026-11-20T15:30:00Z'],
    ]);
    expect(r9?.['risk-log']?.entries[1]?.description).toMatch(
      /^Register sign-off by Sam Ortiz, Security Officer, on 2026-11-20: no change to this risk since the previous sign-off\. Register SHA-256 [0-9a-f]{64}\. Note: Quarterly full re-score$/,
    );
    // A mitigated risk is not on the POA&M, so its change (R2 likelihood 3 -> 4) is only in sign-offs.json.
    expect(risks.some((risk) => risk.title.startsWith('R2:'))).toBe(false);
    const parties = poam['plan-of-action-and-milestones'].metadata.parties as { name: string }[];
    expect(parties.map((p) => p.name)).toEqual(expect.arrayContaining(['Dana Lee', 'Sam Ortiz']));
  });

  it('names every in-scope criterion reviewed in the Assessment Results, still valid against OSCAL 1.0.4', () => {
    const document = json('oscal/assessment-results.json');
    const validate = schemaValidator('oscal_assessment-results_schema.json');
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    const [result] = document['assessment-results'].results;
    const [criteria] = result['reviewed-controls']['control-selections'];
    const ids = criteria['include-controls'].map((c: { 'control-id': string }) => c['control-id']);
    const coverage = json('coverage.json') as { criteria: { id: string; scope: string }[] };
    expect(ids).toEqual(coverage.criteria.filter((c) => c.scope === 'in-scope').map((c) => c.id));
    expect(ids).toEqual(expect.arrayContaining(['CC1.1', 'CC6.1', 'A1.2']));
    const targets = result.findings.map((f: { target: { 'target-id': string } }) => f.target['target-id']);
    for (const id of ids) expect(targets).toContain(id);
    const cc61 = result.findings.find(
      (f: { target: { 'target-id': string } }) => f.target['target-id'] === 'CC6.1',
    );
    expect(cc61.target.status.state).toBe('satisfied');
    const cc11 = result.findings.find(
      (f: { target: { 'target-id': string } }) => f.target['target-id'] === 'CC1.1',
    );
    expect(cc11.target.status).toEqual({ state: 'not-satisfied', reason: 'other' });
  });
});

describe('verify catches hand-edited audit views', () => {
  const flip = (text: string, from: string, to: string) => {
    expect(text).toContain(from);
    return Buffer.from(text.replace(from, to));
  };
  const cases: [string, string, (text: string) => Buffer][] = [
    [
      'readiness.json',
      'a readiness item marked ready',
      (t) => flip(t, '"status": "not-ready"', '"status": "ready"'),
    ],
    [
      'coverage.json',
      'a criterion marked passing',
      (t) => flip(t, '"state": "not-evidenced"', '"state": "passing"'),
    ],
    ['risk-heat-map.json', 'a risk moved out of its cell', (t) => flip(t, '"R2"', '"R3"')],
    ['oscal/poam.json', 'a POA&M item retitled', (t) => flip(t, 'R9', 'R99')],
    [
      'index.html',
      'the heat map cell of R2 emptied',
      (t) => flip(t, 'data-risk-ids="R2"', 'data-risk-ids=""'),
    ],
    [
      'index.html',
      'a readiness status in the page',
      (t) => flip(t, 'data-status="not-ready"', 'data-status="ready"'),
    ],
    [
      'sign-offs.json',
      'a reviewer renamed in the summary',
      (t) => flip(t, '"by": "Sam Ortiz"', '"by": "Someone Else"'),
    ],
  ];
  it.each(cases)('%s: %s (hash in export.json updated too) is report-altered', async (file, _what, edit) => {
    const report = await verifyEdited((copy) =>
      replaceReport(copy, file, edit(copy.get(file)?.toString() ?? '')),
    );
    expect(report.ok).toBe(false);
    expect(problemsOf(report)).toContain(`report-altered ${file}`);
  });

  it("rejects a sign-off document edited inside sign-offs.json: its hash is not the signed manifest's", async () => {
    const report = await verifyEdited((copy) => {
      const doc = JSON.parse(copy.get('sign-offs.json')?.toString() ?? '{}');
      doc.signOffs[1].evidence.document = doc.signOffs[1].evidence.document.replace(
        'Sam Ortiz',
        'Someone Else',
      );
      replaceReport(copy, 'sign-offs.json', Buffer.from(`${JSON.stringify(doc, null, 2)}\n`));
    });
    const altered = report.problems.filter((p) => p.file === 'sign-offs.json');
    expect(altered.map((p) => p.message).join('\n')).toMatch(/not the one the signed manifest lists/);
  });

  it('rejects dropping a sign-off from sign-offs.json and index.html: the signed manifests still name it', async () => {
    const report = await verifyEdited((copy) => {
      const doc = JSON.parse(copy.get('sign-offs.json')?.toString() ?? '{}');
      doc.signOffs = doc.signOffs.slice(0, 1);
      replaceReport(copy, 'sign-offs.json', Buffer.from(`${JSON.stringify(doc, null, 2)}\n`));
    });
    expect(problemsOf(report)).toContain('report-altered sign-offs.json');
  });

  it('reports a removed readiness.json (and its export.json line) as missing', async () => {
    const report = await verifyEdited((copy) => replaceReport(copy, 'readiness.json', undefined));
    expect(problemsOf(report)).toContain('report-missing readiness.json');
  });

  it('recomputes the views from an edited report-inputs.json and finds the archived ones do not match', async () => {
    const report = await verifyEdited((copy) => {
      const inputs = JSON.parse(copy.get('report-inputs.json')?.toString() ?? '{}');
      // Point "access reviews" at a control that always passed: a forger's easiest way to "ready".
      inputs.readiness = {
        base: 'reference',
        items: [
          {
            id: 'access-reviews',
            title: 'Access reviews completed',
            section: 'technical-controls',
            kind: 'latest-verdict',
            controls: ['access-review'],
          },
        ],
      };
      replaceReport(copy, 'report-inputs.json', Buffer.from(`${JSON.stringify(inputs, null, 2)}\n`));
    });
    expect(problemsOf(report)).toEqual(
      expect.arrayContaining(['report-altered readiness.json', 'report-altered index.html']),
    );
  });

  it('fails an edited report-inputs.json whose export.json line was left alone', async () => {
    const report = await verifyEdited((copy) => {
      copy.set('report-inputs.json', Buffer.from('{"kind":"soc2-evidence/report-inputs"}'));
    });
    expect(problemsOf(report)).toEqual(expect.arrayContaining(['report-altered report-inputs.json']));
  });
});
