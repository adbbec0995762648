import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AS_OF } from '../../../lib/cli/demo-command.ts';
import { loadConfig } from '../../../lib/config/load-config.ts';
import { type DemoResult, runDemo } from '../../../lib/local/demo/run-demo.ts';
import type { ControlRunReport } from '../../../lib/runs/run-control.ts';
import { zipEntries } from '../../export/export-fixture.ts';

/**
 * `npm start` as one run (it takes tens of seconds, so every assertion shares it): the demo's Type II
 * year, judged by the real control tests on the seeded data. Each incident must fail exactly its
 * periods and pass the ones after its remediation; everything else must pass on data, not on
 * emptiness.
 */
let work: string;
let demo: DemoResult;
let printed: string;
let html: string;

const MONTHS = [
  '2025-12',
  ...Array.from({ length: 11 }, (_, index) => `2026-${String(index + 1).padStart(2, '0')}`),
];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'soc2-demo-year-'));
  const lines: string[] = [];
  demo = await runDemo({
    config: await loadConfig('soc2-evidence.yaml'),
    asOf: new Date(DEMO_AS_OF),
    keep: false,
    outDir: work,
    print: (text) => lines.push(text),
  });
  printed = lines.join('\n');
  html = (await zipEntries(demo.export.outFile)).get('index.html')?.toString('utf8') ?? '';
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The verdict of each period of a control, from its newest run of that period. */
function verdicts(controlId: string): Map<string, ControlRunReport> {
  const byPeriod = new Map<string, ControlRunReport>();
  for (const run of demo.runs) if (run.job.controlId === controlId) byPeriod.set(run.job.periodKey, run);
  return byPeriod;
}

function periodsWith(controlId: string, verdict: string): string[] {
  return [...verdicts(controlId)].filter(([, run]) => run.verdict.verdict === verdict).map(([key]) => key);
}

describe('the demo year (npm start)', { timeout: 600_000 }, () => {
  it('runs twelve months of every cadence the example config schedules', () => {
    const counts = Object.fromEntries(
      ['audit-log-completeness', 'secrets-rotation', 'backup-restore'].map((id) => [
        id,
        [...verdicts(id).keys()],
      ]),
    );
    for (const keys of Object.values(counts)) expect(keys).toEqual(MONTHS);
    expect([...verdicts('access-review').keys()]).toEqual(['2025-Q4', '2026-Q1', '2026-Q2', '2026-Q3']);
    expect([...verdicts('encryption-in-transit').keys()]).toHaveLength(4);
    const weeks = [...verdicts('vulnerability-scanning').keys()];
    expect([weeks.length, weeks[0], weeks.at(-1)]).toEqual([52, '2025-W49', '2026-W48']);
    expect([...verdicts('penetration-test').keys()]).toEqual(['2025']);
    expect([...verdicts('incident-response-tabletop').keys()]).toEqual(['2025']);
    const days = [...verdicts('schedule-health').keys()];
    expect([days.length, days[0], days.at(-1)]).toEqual([365, '2025-12-01', '2026-11-30']);
    // 463 periods, plus the re-run of one month through SQS that adds an attempt, not a verdict.
    expect(demo.runs).toHaveLength(464);
    expect(demo.runs.at(-1)?.verdict.attempts).toBe(2);
    expect(printed).toMatch(
      /Ran 463 control runs for the year \(459 backfilled .*, 4 dispatched through SQS/,
    );
    expect(printed).toMatch(/Done in \d+\.\d s: 464 control runs over 12 months\./);
  });

  it('fails the audit log only in the month of its 4.5 h silence', () => {
    expect(periodsWith('audit-log-completeness', 'fail')).toEqual(['2026-03']);
    expect(verdicts('audit-log-completeness').get('2026-03')?.outcome.reasons).toEqual([
      expect.stringMatching(
        /^audit log silent 2026-03-17T0[89]:\d\d:\d\d\.\d+Z to 2026-03-17T13:3\d.*\(4\.[56] h\), over maxSilence$/,
      ),
    ]);
    expect(periodsWith('audit-log-completeness', 'pass')).toEqual(MONTHS.filter((m) => m !== '2026-03'));
  });

  it('fails secrets rotation while the signing key is overdue and passes once it is rotated', () => {
    expect(periodsWith('secrets-rotation', 'fail')).toEqual(['2026-05', '2026-06']);
    const reasons = (key: string) => verdicts('secrets-rotation').get(key)?.outcome.reasons;
    expect(reasons('2026-05')).toEqual([
      expect.stringMatching(
        /^API token signing key was last rotated 110 days ago \(2026-02-10T03:00:00\.000Z/,
      ),
    ]);
    expect(reasons('2026-06')).toEqual([
      expect.stringMatching(/^API token signing key was last rotated 140 days ago/),
    ]);
    expect(verdicts('secrets-rotation').get('2026-07')?.verdict.verdict).toBe('pass');
    expect(verdicts('secrets-rotation').get('2026-04')?.outcome.warnings).toEqual([
      expect.stringMatching(/^API token signing key is 79 days old; rotate it before 2026-05-11/),
    ]);
  });

  it('fails the month whose restore crashed and passes the next restore', () => {
    expect(periodsWith('backup-restore', 'fail')).toEqual(['2026-09']);
    expect(verdicts('backup-restore').get('2026-09')?.outcome.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/before 2026-09 began: no restore was tested in the period$/),
      ]),
    );
    for (const month of ['2026-08', '2026-10', '2026-11'])
      expect(verdicts('backup-restore').get(month)?.outcome.figures).toMatchObject({
        tables: 3,
        matching: 3,
      });
  });

  it('passes every other control in every period, on data rather than on emptiness', () => {
    for (const id of [
      'access-review',
      'encryption-in-transit',
      'vulnerability-scanning',
      'penetration-test',
      'incident-response-tabletop',
      'schedule-health',
    ]) {
      expect([id, periodsWith(id, 'fail'), periodsWith(id, 'error')]).toEqual([id, [], []]);
    }
    for (const [, run] of verdicts('audit-log-completeness'))
      expect(Number(run.outcome.figures.events)).toBeGreaterThan(8000);
    for (const [, run] of verdicts('vulnerability-scanning'))
      expect(Number(run.outcome.figures.reports)).toBeGreaterThanOrEqual(1);
    for (const [, run] of verdicts('access-review'))
      expect(Number(run.outcome.figures.accounts)).toBeGreaterThanOrEqual(25);
    // Schedule health owes verdicts every day after the first, and finds each of them.
    const owed = [...verdicts('schedule-health')].map(
      ([key, run]) => [key, Number(run.outcome.figures.periodsOwed)] as const,
    );
    expect(owed.filter(([key, periods]) => key !== '2025-12-01' && periods < 1)).toEqual([]);
    expect(Math.max(...owed.map(([, periods]) => periods))).toBeGreaterThanOrEqual(30);
  });

  it('exports the year with one overview column per period, and the archive verifies', () => {
    expect(demo.export.ok).toBe(true);
    expect(demo.export.report.problems).toEqual([]);
    // 464 runs of the controls and 4 quarterly review sign-offs, each a signed manifest.
    expect(demo.export.export).toMatchObject({ manifests: 468 });
    expect(demo.export.export.counts).toMatchObject({ fail: 4, error: 0, missing: 0 });
    const columns = (cadence: string) => {
      const section = html.match(
        new RegExp(`<section class="cadence" id="cadence-${cadence}">.*?</thead>`, 's'),
      );
      return (section?.[0].match(/<th scope="col">/g) ?? []).length;
    };
    expect(['daily', 'weekly', 'monthly', 'quarterly', 'annual'].map(columns)).toEqual([365, 52, 12, 4, 1]);
    const failing = [...html.matchAll(/data-verdict="fail" data-control="([^"]+)" data-period="([^"]+)"/g)]
      .map((match) => `${match[1]} ${match[2]}`)
      .sort();
    expect(failing).toEqual([
      'audit-log-completeness 2026-03',
      'backup-restore 2026-09',
      'secrets-rotation 2026-05',
      'secrets-rotation 2026-06',
    ]);
    // 467 control-periods (the access review's four sign-offs included), four of them failed.
    const cells = [...html.matchAll(/<td class="cell (\w+)"/g)].map((match) => match[1]);
    expect([cells.length, cells.filter((status) => status === 'pass').length]).toEqual([467, 463]);
  });
});
