import type pg from 'pg';
import type { TargetConfig } from '../../config/schema.ts';
import { ControlCheckError, type EvidenceLog } from '../../controls/outcome.ts';
import type { DatabaseIdentity } from '../../controls/population.ts';
import type { PostgresPort, ReadOnlySession } from '../../controls/ports.ts';
import { redactConnectionStrings } from '../../shared/redact.ts';

/** Resolves a target's connection string at run time (env locally, Secrets Manager in AWS). */
export type ConnectionResolver = (target: TargetConfig) => Promise<string>;

let loadedPg: Promise<typeof pg> | undefined;

/**
 * `pg` is loaded on the first session, not at import: evaluating it costs a Lambda's cold start
 * 20-40 ms (more on Node 20, where its Cloudflare probe loads undici), and the worker opens a
 * database only for the controls that read one. In a bundle it stays inlined, just not evaluated.
 */
function loadPg(): Promise<typeof pg> {
  loadedPg ??= import('pg').then((module) => module.default);
  return loadedPg;
}

function describePgError(error: unknown, target: string): string {
  const err = error as { code?: string; message?: string };
  const message = redactConnectionStrings(err.message ?? String(error));
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return `database "${target}" is unreachable (${err.code})`;
    case '57014':
      return `query on "${target}" was cancelled by the statement timeout`;
    case '42P01':
      return `on "${target}": ${message}`;
    case '42703':
      return `on "${target}": ${message}`;
    case '42501':
      return message.includes('row-level security')
        ? `on "${target}": ${message}: the checking role sees only some rows (it needs BYPASSRLS, or to own the table)`
        : `on "${target}": ${message}`;
    case '28P01':
    case '28000':
      return `database "${target}" rejected the credentials`;
    case '3D000':
      return `database "${target}" does not exist`;
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      // Certificate-verified TLS is the default; the fix is trusting the CA, not turning it off.
      return `the TLS certificate of database "${target}" is not trusted (${err.code}): trust its CA (for RDS, NODE_EXTRA_CA_CERTS pointing at the RDS CA bundle)`;
    default:
      return `database "${target}": ${message}`;
  }
}

/**
 * Each session is one connection, one `READ ONLY` transaction with a statement timeout and UTC
 * session time zone (naive `timestamp` columns are read as UTC), rolled back at the end: a control
 * test can never write to the customer's database, even through a function with side effects.
 */
export function makePostgresPort(
  targets: readonly TargetConfig[],
  resolveConnection: ConnectionResolver,
  options: { connectTimeoutMs?: number } = {},
): PostgresPort {
  return {
    async withReadOnlySession(targetName, evidence: EvidenceLog, work) {
      const target = targets.find((candidate) => candidate.name === targetName);
      if (!target) throw new ControlCheckError(`no target named "${targetName}" is configured`);
      const [connectionString, { Client }] = await Promise.all([resolveConnection(target), loadPg()]);
      const client = new Client({
        connectionString,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
        application_name: 'soc2-evidence',
      });
      // An idle client emits 'error' when the server goes away; without a listener Node would crash.
      client.on('error', () => {});
      try {
        await client.connect();
      } catch (error) {
        throw new ControlCheckError(describePgError(error, targetName), { cause: error });
      }
      try {
        await client.query('BEGIN TRANSACTION READ ONLY');
        await client.query(`SET LOCAL statement_timeout = ${Number(target.statementTimeoutMs)}`);
        await client.query(`SET LOCAL TimeZone = 'UTC'`);
        // A row-level security policy would silently hide rows from the check (a table that looks
        // complete while it is not): with row_security off, such a query fails instead, naming it.
        await client.query('SET LOCAL row_security = off');
        const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();
        const record = (
          label: string,
          text: string,
          params: readonly unknown[],
          startedAt: Date,
          outcome: { rows: readonly unknown[]; rowsStreamed?: number; error?: string },
        ) =>
          evidence.add({
            kind: 'sql',
            label,
            target: targetName,
            text: collapse(text),
            params: [...params],
            rows: outcome.rows,
            ...(outcome.rowsStreamed !== undefined ? { rowsStreamed: outcome.rowsStreamed } : {}),
            startedAt: startedAt.toISOString(),
            durationMs: Date.now() - startedAt.getTime(),
            ...(outcome.error !== undefined ? { error: outcome.error } : {}),
          });
        let cursors = 0;
        const session: ReadOnlySession = {
          async query(label, text, params = []) {
            const startedAt = new Date();
            let result: pg.QueryResult;
            try {
              result = await client.query(text, [...params]);
            } catch (error) {
              const cause = describePgError(error, targetName);
              record(label, text, params, startedAt, { rows: [], error: cause });
              throw new ControlCheckError(`${label}: ${cause}`, { cause: error });
            }
            record(label, text, params, startedAt, { rows: result.rows });
            return result.rows;
          },
          async *stream<Row extends Record<string, unknown>>(
            label: string,
            text: string,
            params: readonly unknown[] = [],
            options: { readonly batchSize?: number } = {},
          ): AsyncGenerator<Row> {
            const startedAt = new Date();
            cursors += 1;
            // A cursor in the session's READ ONLY transaction: the rows stay on the server until fetched.
            const cursor = `soc2_population_${cursors}`;
            const batchSize = Math.max(1, Math.min(100_000, Math.trunc(options.batchSize ?? 2_000)));
            let streamed = 0;
            let open = false;
            let failure: string | undefined;
            try {
              try {
                await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${text}`, [...params]);
                open = true;
              } catch (error) {
                failure = describePgError(error, targetName);
                throw new ControlCheckError(`${label}: ${failure}`, { cause: error });
              }
              for (;;) {
                let batch: pg.QueryResult<Row>;
                try {
                  batch = await client.query<Row>(`FETCH ${batchSize} FROM ${cursor}`);
                } catch (error) {
                  failure = describePgError(error, targetName);
                  throw new ControlCheckError(`${label}: ${failure}`, { cause: error });
                }
                for (const row of batch.rows) {
                  streamed += 1;
                  yield row;
                }
                if (batch.rows.length < batchSize) break;
              }
            } finally {
              if (open) await client.query(`CLOSE ${cursor}`).catch(() => {});
              record(label, text, params, startedAt, {
                rows: [],
                rowsStreamed: streamed,
                ...(failure !== undefined ? { error: failure } : {}),
              });
            }
          },
          async identity(): Promise<DatabaseIdentity> {
            const version = await client.query<{ server_version: string; database_name: string }>(
              `SELECT current_setting('server_version') AS server_version, current_database() AS database_name`,
            );
            const row = version.rows[0];
            if (!row) throw new ControlCheckError(`database "${targetName}" returned no version`);
            // pg_control_system() may be revoked from the role; the population is still evidence
            // without it, so its absence is recorded rather than failing the run.
            await client.query('SAVEPOINT soc2_identity');
            try {
              const control = await client.query<{ system_identifier: string }>(
                'SELECT system_identifier::text AS system_identifier FROM pg_control_system()',
              );
              await client.query('RELEASE SAVEPOINT soc2_identity');
              return {
                systemIdentifier: control.rows[0]?.system_identifier ?? null,
                serverVersion: row.server_version,
                databaseName: row.database_name,
              };
            } catch (error) {
              await client.query('ROLLBACK TO SAVEPOINT soc2_identity').catch(() => {});
              return {
                systemIdentifier: null,
                serverVersion: row.server_version,
                databaseName: row.database_name,
                systemIdentifierError: describePgError(error, targetName),
              };
            }
          },
        };
        return await work(session);
      } finally {
        await client.query('ROLLBACK').catch(() => {});
        await client.end().catch(() => {});
      }
    },
  };
}

/** Local and CLI resolution: the connection string is in the environment variable the target names. */
export function envConnectionResolver(env: Readonly<Record<string, string | undefined>>): ConnectionResolver {
  return async (target) => {
    const name = target.connection.env;
    const value = name ? env[name] : undefined;
    if (!value) {
      throw new ControlCheckError(
        `no connection string for target "${target.name}": set ${name ?? '(no env configured)'}${
          target.connection.secretId
            ? ` or run where Secrets Manager secret ${target.connection.secretId} is readable`
            : ''
        }`,
      );
    }
    return value;
  };
}
