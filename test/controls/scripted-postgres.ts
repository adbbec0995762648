import { ControlCheckError } from '../../lib/controls/outcome.ts';
import type { PostgresPort, ReadOnlySession } from '../../lib/controls/ports.ts';

/** What a scripted session answers to one query label: rows, or rows computed from the params. */
export type ScriptedAnswer =
  | readonly Record<string, unknown>[]
  | ((params: readonly unknown[]) => readonly Record<string, unknown>[]);

export interface ScriptedQuery {
  readonly target: string;
  readonly label: string;
  readonly params: readonly unknown[];
}

/**
 * A PostgreSQL port for unit tests of a control's decisions: each query is answered by its label
 * from a script, so a test states exactly what the database "said" and asserts the verdict drawn
 * from it. The SQL itself is not run here (the integration suites run it on real PostgreSQL); a
 * query the script does not know fails the test instead of returning nothing, so an unexpected
 * query can never look like an empty table.
 */
export function scriptedPostgres(script: Readonly<Record<string, ScriptedAnswer>>): {
  readonly port: PostgresPort;
  readonly queries: ScriptedQuery[];
} {
  const queries: ScriptedQuery[] = [];
  const port: PostgresPort = {
    async withReadOnlySession(target, _evidence, work) {
      const session: ReadOnlySession = {
        async query<Row extends Record<string, unknown>>(
          label: string,
          _text: string,
          params: readonly unknown[] = [],
        ): Promise<Row[]> {
          queries.push({ target, label, params });
          const answer = script[label];
          if (answer === undefined) throw new ControlCheckError(`unscripted query "${label}"`);
          const rows = typeof answer === 'function' ? answer(params) : answer;
          return rows.map((row) => ({ ...row })) as Row[];
        },
        // Populations stream real rows; the unit tests of verdict decisions run without a sink.
        // biome-ignore lint/correctness/useYield: never streams, so an unexpected population fails the test
        async *stream<Row extends Record<string, unknown>>(label: string): AsyncGenerator<Row> {
          throw new ControlCheckError(`unscripted population stream "${label}"`);
        },
        async identity() {
          throw new ControlCheckError('unscripted database identity');
        },
      };
      return work(session);
    },
  };
  return { port, queries };
}
