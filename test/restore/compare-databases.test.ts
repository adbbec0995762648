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

  const table = (
    source: TableStats,
    restored: TableStats | null,
    options: { measure?: TableMeasure; restoredProblem?: string | null } = {},
  ) => ({
    measure: options.measure ?? measure,
    source,
    restored,
    restoredProblem: options.restoredProblem ?? null,
  });
  const newest = '2026-11-15T11:58:00Z';
  const started = new Date('2026-11-15T13:00:00Z');
  const timed = { restoreStartedAt: started, restoreCompletedAt: new Date(started.getTime() + 30 * 60_000) };

  it('passes matching tables with exact figures, the RPO and RTO met, and no warning', () => {
    const result = compareRestore({
      ...base,
      ...timed,
      tables: [table(stats(10, newest), stats(10, newest))],
    });
    expect(result.reasons).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.figures).toEqual({
      tables: 1,
      matching: 1,
      differing: 0,
      missing: 0,
      rowsCompared: 10,
      rpoLagMinutes: 0,
      restoreMinutes: 30,
    });
    expect(result.tables).toEqual([
      {
        table: 'public.orders',
        status: 'match',
        compared: 'rows before the cut-off',
        timestampColumn: 'created_at',
        checksumOf: 'primary key (id)',
        source: { rows: 10, checksum: '70' },
        restored: { rows: 10, checksum: '70' },
        problem: null,
        differences: null,
      },
    ]);
    expect(result.rpo).toEqual({
      limit: 'PT15M',
      recoveryPoint: RP.toISOString(),
      newestRestoredRow: newest,
      newestSourceRowBeforeRecoveryPoint: newest,
      lagMinutes: 0,
      met: true,
    });
    expect(result.rto).toEqual({
      limit: 'PT60M',
      startedAt: '2026-11-15T13:00:00.000Z',
      completedAt: '2026-11-15T13:30:00.000Z',
      durationMinutes: 30,
      met: true,
    });
  });

  it('fails each kind of table difference with its own reason, and counts them', () => {
    const keyless: TableMeasure = { ...measure, table: 'events', timestampColumn: null, primaryKey: null };
    const rowsChecked: TableMeasure = { ...measure, table: 'invoices', checksumRows: true };
    const gone: TableMeasure = { ...measure, table: 'gone' };
    const reshaped: TableMeasure = { ...measure, table: 'reshaped' };
    const differences = new Map([
      ['public.orders', { missingKeys: ['3'], extraKeys: [], changedKeys: [], truncated: false }],
    ]);
    const result = compareRestore({
      ...base,
      ...timed,
      differences,
      tables: [
        table(stats(10, newest), stats(9, newest)),
        table(
          { ...stats(5, null), checksum: '1' },
          { ...stats(5, null), checksum: '2' },
          { measure: keyless },
        ),
        table(
          { ...stats(4, newest), checksum: '1' },
          { ...stats(4, newest), checksum: '2' },
          { measure: rowsChecked },
        ),
        table(stats(3, newest), null, { measure: gone }),
        table(stats(3, newest), null, {
          measure: reshaped,
          restoredProblem: 'restored table lacks column created_at',
        }),
        table(stats(2, newest), null, {
          measure: { ...measure, table: 'unread' },
          restoredProblem: 'missing from the restored database',
        }),
      ],
    });
    expect(result.reasons).toEqual([
      'table public.orders: 9 rows restored, 10 in the source',
      'table public.events: same 5 rows counted but the whole row (no primary key) checksum differs (whole table: no timestamp column, so rows written since the restore also count)',
      'table public.invoices: same 4 rows counted but the whole row (checksum: rows) checksum differs',
      'table public.gone is missing from the restored database',
      'table public.reshaped: restored table lacks column created_at',
      'table public.unread is missing from the restored database',
    ]);
    expect(result.warnings).toEqual([
      'compared whole tables (no timestamp column): public.events',
      'checksummed whole rows (no primary key): public.events',
    ]);
    expect(result.figures).toMatchObject({
      tables: 6,
      matching: 0,
      differing: 3,
      missing: 3,
      rowsCompared: 27,
    });
    expect(result.tables.map((t) => [t.table, t.status, t.problem])).toEqual([
      ['public.orders', 'rows-differ', null],
      ['public.events', 'checksum-differs', null],
      ['public.invoices', 'checksum-differs', null],
      ['public.gone', 'missing', 'not measured'],
      ['public.reshaped', 'schema-differs', 'restored table lacks column created_at'],
      ['public.unread', 'missing', 'missing from the restored database'],
    ]);
    expect(result.tables[0]?.differences).toEqual(differences.get('public.orders'));
    expect(result.tables[3]).toMatchObject({ restored: null, source: { rows: 3, checksum: '21' } });
  });

  it('warns about tables only the restored database has', () => {
    const result = compareRestore({
      ...base,
      ...timed,
      extraInRestored: ['public.tmp', 'public.scratch'],
      tables: [table(stats(1, newest), stats(1, newest))],
    });
    expect(result.warnings).toEqual(['tables only in the restored database: public.tmp, public.scratch']);
    expect(result.reasons).toEqual([]);
  });

  it('measures the RPO from the newest row of any table, and exactly at the limit passes', () => {
    // Two tables: the newer restored row (11:45) decides; 15 minutes before the recovery point is the limit.
    const atLimit = compareRestore({
      ...base,
      ...timed,
      tables: [
        table(stats(1, '2026-11-15T13:00:00Z', '2026-11-15T11:59:59Z'), stats(1, '2026-11-15T11:00:00Z')),
        {
          ...table(
            stats(1, '2026-11-15T13:00:00Z', '2026-11-15T12:00:00Z'),
            stats(1, '2026-11-15T11:45:00Z'),
          ),
          measure: { ...measure, table: 'lines' },
        },
      ],
    });
    expect(atLimit.rpo).toMatchObject({
      newestRestoredRow: '2026-11-15T11:45:00Z',
      newestSourceRowBeforeRecoveryPoint: '2026-11-15T12:00:00Z',
      lagMinutes: 15,
      met: true,
    });
    expect(atLimit.reasons).toEqual([]);
    const overLimit = compareRestore({
      ...base,
      ...timed,
      tables: [
        table(stats(1, '2026-11-15T13:00:00Z', '2026-11-15T12:00:00Z'), stats(1, '2026-11-15T11:44:59.999Z')),
      ],
    });
    expect(overLimit.figures.rpoLagMinutes).toBe(15);
    expect(overLimit.reasons).toEqual([
      'RPO: newest restored row is 2026-11-15T11:44:59.999Z, 15 min before the recovery point 2026-11-15T12:00:00.000Z, over the PT15M limit',
    ]);
  });

  it('fails the RPO when the restored copy holds no timestamped rows, and warns when the source has none', () => {
    const empty = compareRestore({ ...base, ...timed, tables: [table(stats(1, newest), stats(1, null))] });
    expect(empty.reasons).toEqual(['RPO: the restored database holds no timestamped rows']);
    expect(empty.rpo).toMatchObject({ newestRestoredRow: null, lagMinutes: null, met: false });
    expect(empty.figures.rpoLagMinutes).toBeNull();
    const untimedSource = compareRestore({
      ...base,
      ...timed,
      tables: [table(stats(1, null), stats(1, null))],
    });
    expect(untimedSource.warnings).toEqual([
      'RPO not measured: the source has no timestamped rows before the recovery point',
    ]);
    expect(untimedSource.rpo).toMatchObject({ lagMinutes: null, met: null });
    expect(untimedSource.reasons).toEqual([]);
  });

  it('fails the RTO over the limit, passes it exactly at the limit, and leaves it unmeasured without both ends', () => {
    const run = (minutesTaken: number) =>
      compareRestore({
        ...base,
        restoreStartedAt: started,
        restoreCompletedAt: new Date(started.getTime() + minutesTaken * 60_000),
        tables: [table(stats(1, newest), stats(1, newest))],
      });
    expect(run(60).reasons).toEqual([]);
    expect(run(60).rto).toMatchObject({ durationMinutes: 60, met: true });
    expect(run(60.5).reasons).toEqual(['RTO: the restore took 60.5 min, over the PT60M limit']);
    expect(run(60.5).rto).toMatchObject({ met: false });
    const startOnly = compareRestore({
      ...base,
      restoreStartedAt: started,
      tables: [table(stats(1, newest), stats(1, newest))],
    });
    expect(startOnly.warnings).toEqual(['RTO not measured: the restore start and end times are unknown']);
    expect(startOnly.rto).toEqual({
      limit: 'PT60M',
      startedAt: '2026-11-15T13:00:00.000Z',
      completedAt: null,
      durationMinutes: null,
      met: null,
    });
    expect(startOnly.figures.restoreMinutes).toBeNull();
  });

  it('takes the newest row whatever the table order, and skips tables without timestamped rows', () => {
    // The newest restored row (11:50) and the newest source row before the recovery point (11:55)
    // come first, an untimed table (newest null) before and after them: neither may hide them.
    const untimed: TableMeasure = { ...measure, table: 'settings', timestampColumn: null };
    const result = compareRestore({
      ...base,
      ...timed,
      tables: [
        table(stats(1, null), stats(1, null), { measure: untimed }),
        {
          ...table(stats(1, '2026-11-15T11:55:00Z'), stats(1, '2026-11-15T11:50:00Z')),
          measure: { ...measure, table: 'lines' },
        },
        table(stats(1, '2026-11-15T10:00:00Z'), stats(1, '2026-11-15T09:00:00Z')),
        {
          ...table(stats(1, null), stats(1, null), { measure: untimed }),
          measure: { ...untimed, table: 'flags' },
        },
      ],
    });
    expect(result.rpo).toMatchObject({
      newestRestoredRow: '2026-11-15T11:50:00Z',
      newestSourceRowBeforeRecoveryPoint: '2026-11-15T11:55:00Z',
      lagMinutes: 5,
      met: true,
    });
    expect(result.reasons).toEqual([]);
  });

  it('reports no lag when the restored copy holds a row newer than the reference', () => {
    // A restored row after the source's newest one before the recovery point (clock skew, a row
    // written on the source at the recovery point itself): the copy is not behind, lag 0, not negative.
    const result = compareRestore({
      ...base,
      ...timed,
      tables: [table(stats(1, '2026-11-15T11:30:00Z'), stats(1, '2026-11-15T11:40:00Z'))],
    });
    expect(result.rpo).toMatchObject({ lagMinutes: 0, met: true });
    expect(result.figures.rpoLagMinutes).toBe(0);
  });

  it('fails a table with a shape problem even when its restored copy was measured', () => {
    const result = compareRestore({
      ...base,
      ...timed,
      tables: [
        table(stats(1, newest), stats(1, newest), {
          restoredProblem: 'primary key differs (source id, restored none)',
        }),
      ],
    });
    expect(result.tables[0]).toMatchObject({ status: 'schema-differs', restored: null });
    expect(result.reasons).toEqual(['table public.orders: primary key differs (source id, restored none)']);
  });

  it('names every column of a composite key, and every untimed or keyless table, in full', () => {
    const composite: TableMeasure = { ...measure, table: 'lines', primaryKey: ['order_id', 'line'] };
    const keyless = (name: string): TableMeasure => ({
      ...measure,
      table: name,
      timestampColumn: null,
      primaryKey: null,
    });
    const result = compareRestore({
      ...base,
      ...timed,
      tables: [
        table(
          { ...stats(2, newest), checksum: '1' },
          { ...stats(2, newest), checksum: '2' },
          { measure: composite },
        ),
        table(stats(1, null), stats(1, null), { measure: keyless('a') }),
        table(stats(1, null), stats(1, null), { measure: keyless('b') }),
      ],
    });
    expect(result.reasons).toEqual([
      'table public.lines: same 2 rows counted but the primary key (order_id, line) checksum differs',
    ]);
    expect(result.warnings).toEqual([
      'compared whole tables (no timestamp column): public.a, public.b',
      'checksummed whole rows (no primary key): public.a, public.b',
    ]);
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

  it('chooses the first candidate that is a timestamp, and reports a configured column the source lacks', () => {
    const plan = planComparison(
      [
        shape('orders', {
          id: 'bigint',
          updated_at: 'text',
          created_at: 'date',
          at: 'timestamp without time zone',
        }),
        shape('lines', { id: 'bigint' }),
      ],
      {
        exclude: [],
        timestampColumns: { 'public.lines': 'created_at' },
        timestampCandidates: ['updated_at', 'created_at', 'at'],
      },
    );
    expect(plan.measures.map((m) => [m.table, m.timestampColumn])).toEqual([
      ['orders', 'created_at'],
      ['lines', null],
    ]);
    expect(plan.configErrors).toEqual([
      'column public.lines.created_at (timestampColumns) does not exist on the source',
    ]);
  });

  it('uses a configured timestamp column, and excludes tables named with or without their schema', () => {
    const plan = planComparison(
      [
        shape('orders', { id: 'bigint', created_at: 'date', booked_at: 'timestamp with time zone' }),
        shape('jobs', { id: 'bigint' }),
      ],
      {
        exclude: ['jobs'],
        timestampColumns: { 'public.orders': 'booked_at' },
        timestampCandidates: ['created_at'],
      },
    );
    expect(plan.measures.map((m) => [m.table, m.timestampColumn])).toEqual([['orders', 'booked_at']]);
    expect(plan.excluded).toEqual(['public.jobs']);
    expect(plan.configErrors).toEqual([]);
  });

  it('reports an unreadable source table instead of measuring it', () => {
    const plan = planComparison(
      [{ ...shape('secrets', {}), readable: false }, shape('orders', { id: 'bigint' })],
      {
        exclude: [],
        timestampColumns: {},
        timestampCandidates: [],
      },
    );
    expect(plan.measures.map((m) => m.table)).toEqual(['orders']);
    expect(plan.configErrors).toEqual([
      'table public.secrets is not readable by the checking role (no SELECT privilege)',
    ]);
  });

  it('checksums whole rows of keyed tables up to the size limit only', () => {
    const sized = (table: string, bytes: number | undefined, key: string[] | null = ['id']) => ({
      ...shape(table, { id: 'bigint' }, key),
      ...(bytes === undefined ? {} : { bytes }),
    });
    const options = { exclude: [], timestampColumns: {}, timestampCandidates: [] };
    const plan = planComparison(
      [
        sized('small', 1000),
        sized('exact', 2000),
        sized('big', 2001),
        sized('keyless', 10, null),
        sized('unsized', undefined),
      ],
      { ...options, checksum: 'rows', rowChecksumMaxBytes: 2000 },
    );
    expect(plan.measures.map((m) => [m.table, m.checksumRows === true])).toEqual([
      ['small', true],
      ['exact', true],
      ['big', false],
      ['keyless', false],
      ['unsized', true],
    ]);
    expect(plan.measures[2]).not.toHaveProperty('checksumRows');
    // Without a size limit every keyed table is checksummed whole; with `keys`, none is.
    expect(
      planComparison([sized('big', 10 ** 12)], { ...options, checksum: 'rows' }).measures[0]?.checksumRows,
    ).toBe(true);
    expect(
      planComparison([sized('small', 1)], { ...options, checksum: 'keys' }).measures[0],
    ).not.toHaveProperty('checksumRows');
  });

  it('names every way a restored table cannot be measured like the source', () => {
    expect(restoredShapeProblem(measure, undefined)).toBe('missing from the restored database');
    expect(
      restoredShapeProblem(measure, {
        ...shape('orders', { id: 'bigint', created_at: 'date' }),
        readable: false,
      }),
    ).toBe('not readable by the checking role (no SELECT privilege)');
    expect(restoredShapeProblem(measure, shape('orders', { created_at: 'date' }))).toBe(
      'restored table lacks column id',
    );
    expect(restoredShapeProblem(measure, shape('orders', { name: 'text' }))).toBe(
      'restored table lacks column id, created_at',
    );
    expect(restoredShapeProblem(measure, shape('orders', { id: 'bigint', created_at: 'date' }, null))).toBe(
      'primary key differs (source id, restored none)',
    );
    expect(
      restoredShapeProblem(
        { ...measure, primaryKey: ['id', 'line'] },
        shape('orders', { id: 'bigint', line: 'int', created_at: 'date' }, ['line', 'id']),
      ),
    ).toBe('primary key differs (source id,line, restored line,id)');
    // A keyless source table is measured by whole rows: the restored copy may have a key.
    expect(
      restoredShapeProblem(
        { ...measure, primaryKey: null, timestampColumn: null },
        shape('orders', { id: 'bigint' }, ['id']),
      ),
    ).toBeNull();
    expect(restoredShapeProblem(measure, shape('orders', { id: 'bigint', created_at: 'date' }))).toBeNull();
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
