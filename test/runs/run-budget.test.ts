import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import {
  assertRunsFitTimeout,
  RunBudgetError,
  runBudgetOf,
  runBudgetProblems,
} from '../../lib/runs/run-budget.ts';

const owners = [{ id: 'sre', name: 'SRE', email: 'sre@example.com' }];

function config(statementTimeoutMs: { app: number; restored: number }, timestampTables = 0): Config {
  return parseConfig({
    owners,
    targets: [
      { name: 'app', connection: { env: 'APP_URL' }, statementTimeoutMs: statementTimeoutMs.app },
      {
        name: 'restored',
        connection: { env: 'RESTORED_URL' },
        statementTimeoutMs: statementTimeoutMs.restored,
      },
    ],
    controls: [
      {
        id: 'audit-log',
        title: 'Audit log',
        criteria: ['CC7.2'],
        cadence: 'monthly',
        owner: 'sre',
        test: { type: 'log-completeness', target: 'app', retention: 'P30D' },
      },
      {
        id: 'backup-restore',
        title: 'Restore',
        criteria: ['A1.2'],
        cadence: 'monthly',
        owner: 'sre',
        test: {
          type: 'restore-verification',
          sourceTarget: 'app',
          restoredTarget: 'restored',
          restoreLog: { table: 'soc2_restore_log' },
          rpo: 'PT15M',
          rto: 'PT60M',
          timestampColumns: Object.fromEntries(
            Array.from({ length: timestampTables }, (_, i) => [`app.t${i}`, 'created_at']),
          ),
        },
      },
    ],
  });
}

const restoreControl = (cfg: Config) => {
  const control = cfg.controls.find((candidate) => candidate.id === 'backup-restore');
  if (!control) throw new Error('no backup-restore control');
  return control;
};

describe('worst-case run budget', () => {
  it('counts every statement of a restore at its target timeout, plus a connection per session', () => {
    const cfg = config({ app: 30_000, restored: 60_000 });
    const budget = runBudgetOf(restoreControl(cfg), cfg);
    // restore log: 2 x 60 s + 10 s; source: (3 + 1) x 30 s + 10 s; restored: (3 + 1) x 60 s + 10 s.
    expect(budget.worstCaseMs).toBe(130_000 + 130_000 + 250_000);
    expect(budget.assumption).toMatch(/1 table/);
  });

  it('grows with the tables the config names', () => {
    const cfg = config({ app: 30_000, restored: 60_000 }, 5);
    expect(runBudgetOf(restoreControl(cfg), cfg).worstCaseMs).toBe(
      130_000 + (8 * 30_000 + 10_000) + (8 * 60_000 + 10_000),
    );
  });

  it('fails the 5-minute worker for the restore control, naming it and the arithmetic, and not the audit log', () => {
    const problems = runBudgetProblems(config({ app: 30_000, restored: 60_000 }), 300_000);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^control "backup-restore" \(restore-verification\) may need 510 s/);
    expect(problems[0]).toContain("more than the worker's 300 s timeout");
    expect(() => assertRunsFitTimeout(config({ app: 30_000, restored: 60_000 }), 300_000)).toThrow(
      RunBudgetError,
    );
  });

  it('fits a 15-minute worker, and is exact at the boundary (worst case plus reserve)', () => {
    const cfg = config({ app: 30_000, restored: 60_000 });
    expect(runBudgetProblems(cfg, 900_000)).toEqual([]);
    expect(runBudgetProblems(cfg, 530_000)).toEqual([]);
    expect(runBudgetProblems(cfg, 529_999)).toHaveLength(1);
  });

  it('names every control that cannot fit', () => {
    const problems = runBudgetProblems(config({ app: 60_000, restored: 60_000 }), 200_000);
    expect(problems.map((p) => p.match(/^control "([^"]+)"/)?.[1])).toEqual(['audit-log', 'backup-restore']);
  });

  it('passes the example configuration with the stack default (15 minutes)', async () => {
    const { loadConfig } = await import('../../lib/config/load-config.ts');
    expect(runBudgetProblems(await loadConfig('soc2-evidence.yaml'), 15 * 60_000)).toEqual([]);
  });
});
