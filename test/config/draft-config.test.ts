import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { draftConfig, findAuditLogs, findUsersTables } from '../../lib/config/draft-config.ts';
import type { CatalogSnapshot, CatalogTable } from '../../lib/config/introspect-catalog.ts';
import { parseConfigYaml } from '../../lib/config/load-config.ts';

const SEED = Number(process.env.SOC2_PBT_SEED ?? 20261201);
const RUNS = Number(process.env.SOC2_PBT_RUNS ?? 100);

const OPTIONS = { connectionEnv: 'DATABASE_URL', addedOn: '2026-01-01' };

function table(
  name: string,
  columns: Record<string, string>,
  extra: Partial<Pick<CatalogTable, 'schema' | 'indexedLeadingColumns' | 'statistics'>> = {},
): CatalogTable {
  return {
    schema: extra.schema ?? 'public',
    name,
    columns: Object.entries(columns).map(([column, dataType]) => ({ name: column, dataType })),
    indexedLeadingColumns: extra.indexedLeadingColumns ?? [],
    estimatedRows: 100,
    statistics: extra.statistics ?? {},
  };
}

const snapshot = (...tables: CatalogTable[]): CatalogSnapshot => ({
  database: 'app',
  serverVersion: '16.4',
  tables,
});

const AUDIT_LOG = table('audit_log', {
  timestamp: 'timestamp with time zone',
  user_id: 'text',
  action: 'text',
  resource_id: 'text',
  success: 'boolean',
});

describe('draftConfig', () => {
  it('an empty database still drafts a valid config: encryption and schedule health, the rest as templates', () => {
    const drafted = draftConfig(snapshot(), OPTIONS);
    const config = parseConfigYaml(drafted.yaml);
    expect(config.controls.map((control) => control.test.type)).toEqual([
      'encryption-config',
      'schedule-health',
    ]);
    expect(drafted.yaml).toContain('No audit-log-like table found');
    expect(drafted.yaml).toContain('No users table found');
    expect(drafted.yaml).toContain('# - id: vulnerability-scanning');
  });

  it('does not propose log completeness when a column it needs has the wrong type', () => {
    // success as text: log completeness would error on it, so it is not a candidate.
    const wrong = table('audit_log', {
      timestamp: 'timestamp with time zone',
      user_id: 'text',
      action: 'text',
      success: 'text',
    });
    expect(findAuditLogs(snapshot(wrong))).toEqual([]);
    const naive = table('events', {
      created_at: 'date',
      user_id: 'text',
      action: 'text',
      success: 'boolean',
    });
    expect(findAuditLogs(snapshot(naive))).toEqual([]);
  });

  it('prefers the table named like an audit log, and says whether its timestamp is indexed', () => {
    const orders = table('orders', {
      created_at: 'timestamp with time zone',
      user_id: 'int',
      action: 'text',
      success: 'boolean',
    });
    const log = { ...AUDIT_LOG, indexedLeadingColumns: ['timestamp'] };
    const [best] = findAuditLogs(snapshot(orders, log));
    expect(best?.table.name).toBe('audit_log');
    expect(best?.timestampIndexed).toBe(true);
    expect(draftConfig(snapshot(AUDIT_LOG), OPTIONS).yaml).toContain(
      'CREATE INDEX ON public.audit_log ("timestamp")',
    );
  });

  it('proposes secret rotation only when the statistics show rotation events', () => {
    const without = parseConfigYaml(draftConfig(snapshot(AUDIT_LOG), OPTIONS).yaml);
    expect(without.controls.some((control) => control.test.type === 'secret-rotation')).toBe(false);
    const withStats = table(
      'audit_log',
      Object.fromEntries(AUDIT_LOG.columns.map((c) => [c.name, c.dataType])),
      {
        statistics: {
          action: { commonValues: ['login', 'key_rotated'] },
          resource_id: { commonValues: ['db_password'] },
        },
      },
    );
    const config = parseConfigYaml(draftConfig(snapshot(withStats), OPTIONS).yaml);
    const rotation = config.controls.find((control) => control.test.type === 'secret-rotation');
    expect(rotation?.test).toMatchObject({
      auditLog: { action: 'key_rotated' },
      secrets: [{ resourceId: 'db_password' }],
    });
  });

  it('skips tables the config cannot name (mixed case) instead of drafting an invalid file', () => {
    const mixed = table('AuditLog', Object.fromEntries(AUDIT_LOG.columns.map((c) => [c.name, c.dataType])));
    expect(findAuditLogs(snapshot(mixed))).toEqual([]);
    const users = table('Users', {
      username: 'text',
      enabled: 'boolean',
      last_login_at: 'timestamp with time zone',
    });
    expect(findUsersTables(snapshot(users))).toEqual([]);
  });

  it('property: every catalog drafts a config that validates as written', () => {
    const identifier = fc.oneof(
      fc.constantFrom(
        'timestamp',
        'occurred_at',
        'created_at',
        'user_id',
        'actor',
        'action',
        'event_type',
        'success',
        'succeeded',
        'resource_id',
        'username',
        'email',
        'enabled',
        'is_active',
        'last_login_at',
        'removed_at',
        'deleted_at',
      ),
      fc.string({ minLength: 1, maxLength: 70 }),
    );
    const dataType = fc.constantFrom(
      'timestamp with time zone',
      'timestamp without time zone',
      'date',
      'text',
      'boolean',
      'integer',
      'uuid',
      'USER-DEFINED',
      'character varying',
      'jsonb',
    );
    const catalogTable = fc.record({
      schema: fc.oneof(fc.constantFrom('public', 'app', 'core'), fc.string({ minLength: 1, maxLength: 20 })),
      name: fc.oneof(
        fc.constantFrom('audit_log', 'users', 'accounts', 'events'),
        fc.string({ minLength: 1, maxLength: 70 }),
      ),
      columns: fc.uniqueArray(fc.record({ name: identifier, dataType }), {
        selector: (c) => c.name,
        maxLength: 12,
      }),
      indexedLeadingColumns: fc.array(identifier, { maxLength: 3 }),
      estimatedRows: fc.integer({ min: -1, max: 1e9 }),
      statistics: fc.dictionary(
        identifier,
        fc.record({
          commonValues: fc.array(
            fc.oneof(
              fc.constantFrom('login', 'key_rotated', 'admin_export'),
              fc.string({ unit: 'binary', maxLength: 300 }),
            ),
            { maxLength: 8 },
          ),
        }),
      ),
    });
    // Text with what breaks YAML: line breaks (also U+2028), quotes, comment and mapping markers.
    const awkward = fc.string({
      unit: fc.constantFrom('a', 'z', '_', '\n', '\r', '"', "'", '#', ':', ' ', '[', '\u2028', 'é', '\u0000'),
      maxLength: 40,
    });
    const awkwardStatistics = fc.dictionary(
      fc.constantFrom('action', 'resource_id', 'timestamp'),
      fc.record({
        commonValues: fc.array(fc.oneof(fc.constantFrom('login', 'key_rotated', 'admin_export'), awkward), {
          maxLength: 8,
        }),
      }),
    );
    // Shaped like an audit log, so its statistics reach the drafted comments and lists.
    const auditShaped = fc
      .record({ indexed: fc.boolean(), statistics: awkwardStatistics })
      .map(({ indexed, statistics }) => ({
        ...AUDIT_LOG,
        indexedLeadingColumns: indexed ? ['timestamp'] : [],
        statistics,
      }));
    fc.assert(
      fc.property(
        fc.array(fc.oneof(catalogTable, auditShaped), { maxLength: 6 }),
        fc.oneof(awkward, fc.string({ unit: 'binary', maxLength: 30 })),
        (tables, database) => {
          const drafted = draftConfig({ database, serverVersion: '16', tables }, OPTIONS);
          const config = parseConfigYaml(drafted.yaml);
          expect(config.controls.length).toBeGreaterThanOrEqual(2);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
