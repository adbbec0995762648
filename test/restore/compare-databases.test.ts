import { describe, expect, it } from 'vitest';
import { compareRestore, planComparison, restoredShapeProblem } from '../../lib/restore/compare-databases.ts';
import type { TableMeasure, TableShape, TableStats } from '../../lib/restore/database-inventory.ts';

const RP = new Date('2026-11-15T12:00:00Z');
const measure: TableMeasure = {
  schema: 'public',
  table: 'orders',
  timestampColumn: 'created_at',
  primaryKey: ['id'],
};
const stats = (rows: number, newest: string | null, newestBefore: string | null = newest): TableStats => ({
  ...measure,
  rows,
  checksum: String(rows * 7),
  newest,
  newestBeforeRecoveryPoint: newestBefore,
});
const base = {
  extraInRestored: [],
  recoveryPoint: RP,
  cutoff: new Date(RP.getTime() - 60_000),
  rpo: { label: 'PT15M', ms: 15 * 60_000 },
  rto: { label: 'PT60M', ms: 60 * 60_000 },
};

describe('compareRestore', () => {
  it('fails the RPO when the newest restored row is 40 minutes behind a busy source', () => {
    const result = compareRestore({
      ...base,
      tables: [
        {
          measure,
          source: stats(10, '2026-11-15T12:30:00Z', '2026-11-15T11:59:00Z'),
          restored: stats(10, '2026-11-15T11:20:00Z'),
          restoredProblem: null,
        },
      ],
    });
    expect(result.rpo).toMatchObject({ lagMinutes: 39, met: false });
    expect(result.reasons).toEqual([
      "RPO: newest restored row is 2026-11-15T11:20:00Z, 39 min before the recovery point 2026-11-15T12:00:00.000Z (measured from the source's newest row before it, 2026-11-15T11:59:00Z), over the PT15M limit",
    ]);
  });

  it('does not count a quiet source as lost data', () => {
    const quiet = '2026-11-15T09:00:00Z';
    const result = compareRestore({
      ...base,
      tables: [{ measure, source: stats(10, quiet), restored: stats(10, quiet), restoredProblem: null }],
    });
    expect(result.rpo).toMatchObject({ lagMinutes: 0, met: true });
    expect(result.reasons).toEqual([]);
    expect(result.warnings).toEqual(['RTO not measured: the restore start and end times are unknown']);
  });

  it('fails when there is nothing to compare', () => {
    expect(compareRestore({ ...base, tables: [] }).reasons).toContain(
      'no tables to compare: check the configured schemas',
    );
  });
});

describe('planComparison', () => {
  const shape = (
    table: string,
    columns: Record<string, string>,
    primaryKey: string[] | null = ['id'],
  ): TableShape => ({
    schema: 'public',
    table,
    columns: new Map(Object.entries(columns)),
    primaryKey,
  });
  const shapes = [
    shape('orders', { id: 'bigint', created_at: 'timestamp with time zone' }),
    shape('jobs', { id: 'bigint', created_at: 'timestamp with time zone' }),
    shape('audit', { id: 'bigint', at: 'text' }),
  ];

  it('discovers timestamp columns, honours exclusions and explicit nulls, and reports bad configuration', () => {
    const plan = planComparison(shapes, {
      exclude: ['public.jobs', 'ghost'],
      timestampColumns: { orders: null, audit: 'at' },
      timestampCandidates: ['created_at'],
    });
    expect(plan.measures.map((m) => [m.table, m.timestampColumn])).toEqual([
      ['orders', null],
      ['audit', null],
    ]);
    expect(plan.excluded).toEqual(['public.jobs']);
    expect(plan.configErrors).toEqual([
      'column public.audit.at is text, expected a timestamp',
      'table ghost (configured) does not exist on the source',
    ]);
  });

  it('flags a restored table whose primary key changed', () => {
    expect(
      restoredShapeProblem(measure, shape('orders', { id: 'bigint', created_at: 'date' }, ['created_at'])),
    ).toBe('primary key differs (source id, restored created_at)');
    expect(restoredShapeProblem(measure, shape('orders', { id: 'bigint' }))).toBe(
      'restored table lacks column created_at',
    );
  });
});
