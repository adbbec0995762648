import { describe, expect, it } from 'vitest';
import { runTest } from './control-harness.ts';
import { type ScriptedAnswer, scriptedPostgres } from './scripted-postgres.ts';

/**
 * Restore verification's own decisions: where the recovery point comes from (the restore log or a
 * fixed parameter), which restore counts, and whether it proves the period. Both databases answer
 * with no tables here, so the comparison adds only its own fixed reasons; the comparison itself is
 * compare-databases.test.ts (pure) and restore-verification.test.ts (real PostgreSQL).
 */
const AS_OF = '2026-12-01T06:00:00.000Z';
const logColumns = [
  { column_name: 'recovery_point', data_type: 'timestamp with time zone' },
  { column_name: 'started_at', data_type: 'timestamp with time zone' },
  { column_name: 'completed_at', data_type: 'timestamp with time zone' },
];

const restore = (
  recoveryPoint: string | null,
  completedAt: string | null,
  startedAt: string | null = null,
  incomplete = '0',
) => ({
  recovery_point: recoveryPoint ? new Date(recoveryPoint) : null,
  started_at: startedAt ? new Date(startedAt) : null,
  completed_at: completedAt ? new Date(completedAt) : null,
  incomplete,
});

function check(script: Record<string, ScriptedAnswer>, test: Record<string, unknown> = { restoreLog: {} }) {
  const postgres = scriptedPostgres({
    'restore log columns': logColumns,
    'newest completed restore': [
      restore('2026-11-28T03:00:00Z', '2026-11-28T03:40:00Z', '2026-11-28T03:05:00Z'),
    ],
    tables: [],
    columns: [],
    'primary keys': [],
    ...script,
  });
  const run = runTest({
    test: { type: 'restore-verification', sourceTarget: 'prod', restoredTarget: 'staging', ...test },
    cadence: 'monthly',
    periodKey: '2026-11',
    asOf: AS_OF,
    ports: { postgres: postgres.port },
  });
  return { run, queries: postgres.queries };
}

/** What the comparison of two empty databases says on its own, to tell this control's reasons apart. */
async function comparisonOnly(): Promise<{ reasons: readonly string[]; warnings: readonly string[] }> {
  const { outcome } = await check({}).run;
  return { reasons: outcome.reasons, warnings: outcome.warnings };
}

describe('restore verification: which restore counts', () => {
  it('reads the newest completed restore from the restored target, as of the run', async () => {
    const { run, queries } = check({});
    const { outcome } = await run;
    expect(queries.slice(0, 2).map((query) => [query.target, query.label, query.params])).toEqual([
      ['staging', 'restore log columns', ['public', 'soc2_restore_log']],
      ['staging', 'newest completed restore', [AS_OF]],
    ]);
    expect(outcome.details).toMatchObject({
      source: 'prod',
      restored: 'staging',
      recoveryPointFrom: 'public.soc2_restore_log',
    });
    for (const reason of outcome.reasons)
      expect(reason).not.toMatch(/recovery point|newest restore|restore log/);
    expect(outcome.warnings).not.toContain(
      'fixed recoveryPoint in the configuration: the check does not show a new restore was made',
    );
  });

  it('fails when the log records no completed restore, counting the unfinished ones', async () => {
    for (const row of [
      restore(null, null, null, '2'),
      restore('2026-11-28T03:00:00Z', null, null, '2'),
      restore(null, '2026-11-28T03:00:00Z', null, '2'),
    ]) {
      const { outcome } = await check({ 'newest completed restore': [row] }).run;
      expect(outcome).toMatchObject({
        verdict: 'fail',
        reasons: [
          `restore log public.soc2_restore_log records no restore completed by ${AS_OF} (2 unfinished): no restore was tested in 2026-11`,
        ],
        figures: { tables: 0 },
        details: { source: 'prod', restored: 'staging', restore: null },
      });
    }
    const none = await check({ 'newest completed restore': [] }).run;
    expect(none.outcome.reasons).toEqual([
      `restore log public.soc2_restore_log records no restore completed by ${AS_OF} (0 unfinished): no restore was tested in 2026-11`,
    ]);
  });

  it('errors when the restore log or one of its columns is missing', async () => {
    const noLog = await check({ 'restore log columns': [] }).run;
    expect(noLog.outcome).toMatchObject({
      verdict: 'error',
      reasons: [
        'restore log public.soc2_restore_log does not exist on "staging": the restore job must record its recovery point there',
      ],
    });
    for (const missing of ['recovery_point', 'started_at', 'completed_at']) {
      const { outcome } = await check({
        'restore log columns': logColumns.filter((c) => c.column_name !== missing),
      }).run;
      expect(outcome.reasons).toEqual([`column public.soc2_restore_log.${missing} does not exist`]);
    }
  });

  it('fails a restore completed before the period, and one whose recovery point lies outside it', async () => {
    const base = await comparisonOnly();
    const old = await check({
      'newest completed restore': [
        restore('2026-10-30T03:00:00Z', '2026-10-31T23:59:59Z', '2026-10-31T23:30:00Z'),
      ],
    }).run;
    expect(old.outcome.verdict).toBe('fail');
    expect(old.outcome.reasons).toEqual([
      'the newest restore completed 2026-10-31T23:59:59.000Z, before 2026-11 began: no restore was tested in the period',
      "the recovery point 2026-10-30T03:00:00.000Z is not in 2026-11: the restore does not show the period's backups can be restored",
      ...base.reasons,
    ]);
    const lateRecoveryPoint = await check({
      'newest completed restore': [
        restore('2026-12-01T00:00:00Z', '2026-12-01T01:00:00Z', '2026-12-01T00:30:00Z'),
      ],
    }).run;
    expect(lateRecoveryPoint.outcome.reasons[0]).toBe(
      "the recovery point 2026-12-01T00:00:00.000Z is not in 2026-11: the restore does not show the period's backups can be restored",
    );
  });

  it('accepts a recovery point at the period start and a restore completed at it', async () => {
    const base = await comparisonOnly();
    const { outcome } = await check({
      'newest completed restore': [
        restore('2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z'),
      ],
    }).run;
    expect(outcome.reasons).toEqual(base.reasons);
  });

  it('takes a fixed recovery point from the parameters, warning that it shows no new restore', async () => {
    const base = await comparisonOnly();
    const { run, queries } = check(
      {},
      {
        recoveryPoint: '2026-11-15T00:00:00Z',
        restoreStartedAt: '2026-11-15T01:00:00Z',
        restoreCompletedAt: '2026-10-15T02:00:00Z',
      },
    );
    const { outcome } = await run;
    expect(queries.map((query) => query.label)).not.toContain('restore log columns');
    // Configured times are held to the same order as logged ones: a restore cannot complete before
    // the point it restored or before it started (that RTO would be negative, and "met").
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons).toEqual([
      'the recovery point 2026-11-15T00:00:00.000Z is after the restore completed (2026-10-15T02:00:00.000Z): the restore times are wrong',
      'the restore started 2026-11-15T01:00:00.000Z, after it completed (2026-10-15T02:00:00.000Z): the restore times are wrong',
      ...base.reasons,
    ]);
    expect(outcome.warnings).toContain(
      'fixed recoveryPoint in the configuration: the check does not show a new restore was made',
    );
    expect(outcome.details).toMatchObject({ recoveryPointFrom: 'params.recoveryPoint' });
    const outside = await check({}, { recoveryPoint: '2026-12-01T00:00:00Z' }).run;
    expect(outside.outcome.reasons[0]).toBe(
      "the recovery point 2026-12-01T00:00:00.000Z is not in 2026-11: the restore does not show the period's backups can be restored",
    );
  });

  it('accepts consistent configured restore times and rejects a completion after the check', async () => {
    const base = await comparisonOnly();
    const times = { recoveryPoint: '2026-11-15T00:00:00Z', restoreStartedAt: '2026-11-15T01:00:00Z' };
    const consistent = await check({}, { ...times, restoreCompletedAt: '2026-11-15T02:00:00Z' }).run;
    expect(consistent.outcome.reasons).toEqual(base.reasons);
    const future = await check({}, { ...times, restoreCompletedAt: '2026-12-01T06:00:00.001Z' }).run;
    expect(future.outcome.reasons[0]).toBe(
      'the restore completed 2026-12-01T06:00:00.001Z, after the check (2026-12-01T06:00:00.000Z): it cannot have been tested yet',
    );
  });

  it('fails a logged restore that started after it completed: its RTO would be negative', async () => {
    const { outcome } = await check({
      'newest completed restore': [
        restore('2026-11-28T03:00:00Z', '2026-11-28T03:40:00Z', '2026-11-28T09:00:00Z'),
      ],
    }).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons[0]).toBe(
      'the restore started 2026-11-28T09:00:00.000Z, after it completed (2026-11-28T03:40:00.000Z): the restore log is wrong',
    );
  });

  it('reads a configured restore log', async () => {
    const { run, queries } = check(
      {
        'restore log columns': [
          { column_name: 'point', data_type: 'timestamp with time zone' },
          { column_name: 'began', data_type: 'timestamp with time zone' },
          { column_name: 'ended', data_type: 'timestamp with time zone' },
        ],
      },
      {
        restoreLog: {
          schema: 'ops',
          table: 'restores',
          columns: { recoveryPoint: 'point', startedAt: 'began', completedAt: 'ended' },
        },
      },
    );
    const { outcome } = await run;
    expect(queries[0]?.params).toEqual(['ops', 'restores']);
    expect(outcome.details).toMatchObject({ recoveryPointFrom: 'ops.restores' });
  });

  it('rejects parameters without a recovery point source, or restoring onto the source', async () => {
    const noSource = await runTest({
      test: { type: 'restore-verification', sourceTarget: 'prod', restoredTarget: 'staging' },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: AS_OF,
      ports: {},
    }).catch((error: Error) => error);
    expect(String(noSource)).toContain(
      'expected restoreLog or recoveryPoint: the recovery point must be known',
    );
    const same = await runTest({
      test: { type: 'restore-verification', sourceTarget: 'prod', restoredTarget: 'prod', restoreLog: {} },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: AS_OF,
      ports: {},
    }).catch((error: Error) => error);
    expect(String(same)).toContain('the restored target must differ from the source target');
  });
});

describe('restore verification: what the restore itself proves', () => {
  it("keeps the comparison's own reasons and warnings, and measures the RTO from the log's start and end", async () => {
    const { outcome } = await check({}).run;
    // Two empty databases: the comparison itself fails (nothing compared) and cannot measure the RPO.
    expect(outcome.reasons).toEqual(['no tables to compare: check the configured schemas']);
    expect(outcome.warnings).toEqual([
      'RPO not measured: the source has no timestamped rows before the recovery point',
    ]);
    expect(outcome.details).toMatchObject({
      rto: {
        startedAt: '2026-11-28T03:05:00.000Z',
        completedAt: '2026-11-28T03:40:00.000Z',
        durationMinutes: 35,
        met: true,
      },
    });
  });

  it('measures the RTO from the configured start and end with a fixed recovery point', async () => {
    const { outcome } = await check(
      {},
      {
        recoveryPoint: '2026-11-15T00:00:00Z',
        restoreStartedAt: '2026-11-15T01:00:00Z',
        restoreCompletedAt: '2026-11-15T01:20:00Z',
      },
    ).run;
    expect(outcome.details).toMatchObject({
      rto: {
        startedAt: '2026-11-15T01:00:00.000Z',
        completedAt: '2026-11-15T01:20:00.000Z',
        durationMinutes: 20,
      },
    });
    expect(outcome.warnings).not.toContain('RTO not measured: the restore start and end times are unknown');
  });

  it('fails a log row whose recovery point is after the restore completed', async () => {
    const { outcome } = await check({
      'newest completed restore': [
        restore('2026-11-28T04:00:00Z', '2026-11-28T03:40:00Z', '2026-11-28T03:05:00Z'),
      ],
    }).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons[0]).toBe(
      'the recovery point 2026-11-28T04:00:00.000Z is after the restore completed (2026-11-28T03:40:00.000Z): the restore log is wrong',
    );
  });

  it('fails a logged restore without a start time: the RTO cannot be measured', async () => {
    const { outcome } = await check({
      'newest completed restore': [restore('2026-11-28T03:00:00Z', '2026-11-28T03:40:00Z', null)],
    }).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons[0]).toBe(
      'the newest restore in public.soc2_restore_log has no started_at: the RTO cannot be measured',
    );
  });

  it('errors when a restore log column holds text instead of a timestamp', async () => {
    const { outcome } = await check({
      'restore log columns': logColumns.map((c) =>
        c.column_name === 'completed_at' ? { ...c, data_type: 'text' } : c,
      ),
    }).run;
    expect(outcome).toMatchObject({
      verdict: 'error',
      reasons: ['column public.soc2_restore_log.completed_at is text, expected a timestamp'],
    });
    // A naive timestamp column is a timestamp too.
    const naive = await check({
      'restore log columns': logColumns.map((c) => ({ ...c, data_type: 'timestamp without time zone' })),
    }).run;
    expect(naive.outcome.reasons).toEqual(['no tables to compare: check the configured schemas']);
  });
});
