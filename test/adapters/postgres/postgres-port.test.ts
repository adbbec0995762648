import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envConnectionResolver, makePostgresPort } from '../../../lib/adapters/postgres/postgres-port.ts';
import { parseConfig } from '../../../lib/config/load-config.ts';
import { EvidenceLog } from '../../../lib/controls/outcome.ts';
import { redactConnectionStrings } from '../../../lib/shared/redact.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';

describe('PostgreSQL port', () => {
  let env: TestEnvironment;
  let url: string;
  const targets = parseConfig({
    owners: [{ id: 'o', name: 'O', email: 'o@example.com' }],
    targets: [{ name: 'app', connection: { env: 'APP_URL' }, statementTimeoutMs: 200 }],
    controls: [
      {
        id: 'c',
        title: 'C',
        criteria: ['CC7.2'],
        cadence: 'monthly',
        owner: 'o',
        test: { type: 'log-completeness', target: 'app' },
      },
    ],
  }).targets;

  beforeAll(async () => {
    env = await startTestEnvironment();
    url = await env.createDatabase('port_app');
    await env.sql(url, 'CREATE TABLE t (id int)');
  });
  afterAll(async () => env?.stop());

  const port = () => makePostgresPort(targets, envConnectionResolver({ APP_URL: url }));

  it('refuses writes: every session is a read-only transaction', async () => {
    const evidence = new EvidenceLog();
    await expect(
      port().withReadOnlySession('app', evidence, (session) =>
        session.query('write', 'INSERT INTO t VALUES (1)'),
      ),
    ).rejects.toThrow(/read-only transaction/);
    expect((await env.sql(url, 'SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(0);
  });

  it('records a failed query in the evidence with its cause', async () => {
    const evidence = new EvidenceLog();
    await expect(
      port().withReadOnlySession('app', evidence, (session) => session.query('slow', 'SELECT pg_sleep(2)')),
    ).rejects.toThrow(/cancelled by the statement timeout/);
    expect(evidence.entries).toEqual([
      expect.objectContaining({
        kind: 'sql',
        label: 'slow',
        error: expect.stringMatching(/statement timeout/),
      }),
    ]);
  });

  it('records successful queries with text, parameters and rows', async () => {
    const evidence = new EvidenceLog();
    const rows = await port().withReadOnlySession('app', evidence, (session) =>
      session.query<{ n: number }>('param', 'SELECT $1::int + 1 AS n', [41]),
    );
    expect(rows).toEqual([{ n: 42 }]);
    expect(evidence.entries[0]).toMatchObject({
      label: 'param',
      text: 'SELECT $1::int + 1 AS n',
      params: [41],
      rows: [{ n: 42 }],
    });
  });

  it('names a missing connection variable without leaking anything', async () => {
    const missing = makePostgresPort(targets, envConnectionResolver({}));
    await expect(missing.withReadOnlySession('app', new EvidenceLog(), async () => 1)).rejects.toThrow(
      /no connection string for target "app": set APP_URL/,
    );
  });

  it('redacts connection strings from messages', () => {
    expect(redactConnectionStrings('failed for postgres://admin:hunter2@db:5432/app today')).toBe(
      'failed for postgres://[redacted] today',
    );
  });
});
