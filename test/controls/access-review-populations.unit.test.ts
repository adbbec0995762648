import { describe, expect, it } from 'vitest';
import type { ControlConfig } from '../../lib/config/schema.ts';
import { EvidenceLog } from '../../lib/controls/outcome.ts';
import type {
  DatabaseIdentity,
  PopulationItem,
  PopulationProvenance,
  PopulationSink,
  WrittenPopulation,
} from '../../lib/controls/population.ts';
import type { PostgresPort } from '../../lib/controls/ports.ts';
import { controlTestParamsSchema, runControlTest } from '../../lib/controls/registry.ts';
import { periodFromKey } from '../../lib/shared/period.ts';
import { AS_OF, CUTOFF, logColumns, userColumns } from './access-review-fixture.ts';

/**
 * The populations access review hands an auditor (every account at the period's end, the removals
 * in the period, the flagged accounts): which are written, bound to which instants, read by which
 * query, and how each row becomes an item. In memory: the session answers by label and streams the
 * rows a test gives it, the sink keeps what it was handed. The same queries run on real PostgreSQL
 * in test/evidence/populations.int.test.ts.
 */
const PERIOD = periodFromKey('quarterly', '2026-Q3', 'UTC');
const IDENTITY: DatabaseIdentity = { systemIdentifier: '7', serverVersion: '18.0', databaseName: 'app' };

interface Written {
  readonly name: string;
  readonly provenance: PopulationProvenance;
  readonly items: PopulationItem[];
}

async function recordPopulations(test: Record<string, unknown>, rows: Record<string, unknown>[] = []) {
  const streamed: { label: string; params: readonly unknown[] }[] = [];
  const postgres: PostgresPort = {
    async withReadOnlySession(_target, _evidence, work) {
      return work({
        async query<Row extends Record<string, unknown>>(label: string): Promise<Row[]> {
          const answers: Record<string, Record<string, unknown>[]> = {
            'columns of public.users': userColumns,
            'columns of public.audit_log': logColumns,
            'account counts': [
              { total: '1', enabled: '1', unnamed: '0', dormant: '0', active_after_removal: '0' },
            ],
          };
          const answer = answers[label];
          if (answer === undefined) throw new Error(`unscripted query "${label}"`);
          return answer as Row[];
        },
        async *stream<Row extends Record<string, unknown>>(
          label: string,
          _text: string,
          params: readonly unknown[] = [],
        ): AsyncGenerator<Row> {
          streamed.push({ label, params });
          for (const row of rows) yield row as Row;
        },
        async identity() {
          return IDENTITY;
        },
      });
    },
  };
  const written: Written[] = [];
  const populations: PopulationSink = {
    async write(declaration, provenance, items) {
      const collected: PopulationItem[] = [];
      for await (const item of items) collected.push(item);
      const resolved = typeof provenance === 'function' ? provenance() : provenance;
      written.push({ name: declaration.name, provenance: resolved, items: collected });
      return { name: declaration.name, rows: collected.length } as WrittenPopulation;
    },
  };
  const params = controlTestParamsSchema.parse({ type: 'access-review', target: 'app', ...test });
  const control: ControlConfig = {
    id: 'access-review',
    title: 'Access review',
    criteria: ['CC6.2'],
    cadence: 'quarterly',
    owner: 'security',
    test: params,
  };
  const outcome = await runControlTest(params, {
    control,
    period: PERIOD,
    asOf: new Date(AS_OF),
    now: new Date(AS_OF),
    ports: { postgres },
    evidence: new EvidenceLog(),
    populations,
  });
  return { outcome, written, streamed };
}

const queryOf = (written: Written) => (written.provenance.source === 'sql' ? written.provenance.query : '');

describe('access review populations', () => {
  it('writes the accounts at the end, the removals in the period and the flagged ones, with their bounds', async () => {
    const { outcome, written, streamed } = await recordPopulations({
      columns: { createdAt: 'created_at', removedAt: 'removed_at' },
    });
    expect(outcome.verdict).toBe('pass');
    expect(written.map((population) => population.name)).toEqual([
      'accounts-at-period-end',
      'accounts-removed',
      'accounts-flagged',
    ]);
    const window = [PERIOD.start.toISOString(), PERIOD.end.toISOString()];
    expect(streamed).toEqual([
      { label: 'population accounts-at-period-end', params: [AS_OF, CUTOFF] },
      { label: 'population accounts-removed', params: [AS_OF, CUTOFF, ...window] },
      { label: 'population accounts-flagged', params: [AS_OF, CUTOFF] },
    ]);
    expect(written.map((population) => population.provenance)).toMatchObject([
      { source: 'sql', target: 'app', database: IDENTITY, params: [AS_OF, CUTOFF] },
      { source: 'sql', target: 'app', database: IDENTITY, params: [AS_OF, CUTOFF, ...window] },
      { source: 'sql', target: 'app', database: IDENTITY, params: [AS_OF, CUTOFF] },
    ]);
    const [atEnd, removed, flagged] = written.map(queryOf);
    // Every population reads the same judged accounts, from the configured columns.
    for (const query of [atEnd, removed, flagged]) {
      expect(query).toContain(
        'SELECT a."username"::text AS account, a."enabled" AS enabled, a."last_login_at"::timestamptz AS last_login, a."created_at"::timestamptz AS created_at, a."removed_at"::timestamptz AS removed_at FROM "public"."users" AS a',
      );
    }
    expect(atEnd).toMatch(/SELECT \* FROM judged WHERE true ORDER BY account COLLATE "C"$/);
    expect(removed).toMatch(
      /WHERE removed_at >= \$3::timestamptz AND removed_at < \$4::timestamptz ORDER BY account COLLATE "C"$/,
    );
    expect(flagged).toMatch(
      /SELECT \* FROM judged WHERE dormant OR active_after_removal ORDER BY account COLLATE "C"$/,
    );
  });

  it('writes no removals population without a removedAt column, and reads logins from the audit log when configured', async () => {
    const { written, streamed } = await recordPopulations({ loginEvents: { action: 'sign_in' } });
    expect(written.map((population) => population.name)).toEqual([
      'accounts-at-period-end',
      'accounts-flagged',
    ]);
    expect(streamed.map((stream) => stream.params)).toEqual([
      [AS_OF, CUTOFF, 'sign_in'],
      [AS_OF, CUTOFF, 'sign_in'],
    ]);
    const query = queryOf(written[0] as Written);
    expect(query).toContain(
      'SELECT a."username"::text AS account, a."enabled" AS enabled, (SELECT max(l."timestamp")::timestamptz FROM "public"."audit_log" AS l WHERE l."user_id"::text = a."username"::text AND l."action" = $3 AND l."success" AND l."timestamp" <= $1) AS last_login, NULL::timestamptz AS created_at, NULL::timestamptz AS removed_at FROM "public"."users" AS a',
    );
  });

  it('turns each account row into an item named by the account, with its dates as ISO text', async () => {
    const { written } = await recordPopulations({ columns: { removedAt: 'removed_at' } }, [
      {
        account: 'alice',
        enabled: true,
        last_login: new Date('2026-05-01T00:30:00Z'),
        created_at: new Date('2020-01-01T00:00:00Z'),
        removed_at: new Date('2026-09-01T00:00:00Z'),
        dormant: true,
        active_after_removal: true,
      },
      {
        account: null,
        enabled: null,
        last_login: null,
        created_at: null,
        removed_at: null,
        dormant: false,
        active_after_removal: false,
      },
    ]);
    expect(written[0]?.items).toEqual([
      {
        id: 'alice',
        account: 'alice',
        enabled: true,
        lastLogin: '2026-05-01T00:30:00.000Z',
        createdAt: '2020-01-01T00:00:00.000Z',
        removedAt: '2026-09-01T00:00:00.000Z',
        dormant: true,
        activeAfterRemoval: true,
      },
      {
        id: '(no account identifier)',
        account: null,
        enabled: null,
        lastLogin: null,
        createdAt: null,
        removedAt: null,
        dormant: false,
        activeAfterRemoval: false,
      },
    ]);
  });
});
