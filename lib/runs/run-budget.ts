import type { Config, ControlConfig } from '../config/schema.ts';

/** One read-only session a control test opens: its target and the statements it may run there. */
export interface SessionBudget {
  readonly target: string;
  readonly statements: number;
}

/** How long one control's run may take at worst: every statement running to its target's timeout. */
export interface RunBudget {
  readonly controlId: string;
  readonly type: string;
  readonly sessions: readonly SessionBudget[];
  readonly worstCaseMs: number;
  /** Why the statement count is a lower bound, when it depends on what the database holds. */
  readonly assumption?: string;
}

/** What the run keeps back from the remaining time to store evidence, verdict and notice. */
export const DEFAULT_DEADLINE_RESERVE_MS = 20_000;

/** The PostgreSQL port's connect timeout (lib/adapters/postgres/postgres-port.ts default). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The SQL sessions each test type opens and the statements it runs in each, counted from the code
 * (lib/controls/*.ts, lib/restore/*.ts). Tests that read only AWS APIs or S3 run no statements;
 * their SDK calls have their own timeouts.
 */
export function sessionsOf(control: ControlConfig): { sessions: SessionBudget[]; assumption?: string } {
  const test = control.test;
  switch (test.type) {
    case 'log-completeness':
      return { sessions: [{ target: test.target, statements: 4 }] };
    case 'access-review':
      return { sessions: [{ target: test.target, statements: 3 }] };
    case 'encryption-config':
      return { sessions: [{ target: test.target, statements: 2 }] };
    case 'secret-rotation':
      return { sessions: test.target ? [{ target: test.target, statements: 2 }] : [] };
    case 'restore-verification': {
      // Inventory (3 statements) plus one per table on each side; the table count is only known at
      // run time, so the tables named in timestampColumns (at least one) give a lower bound.
      const tables = Math.max(1, Object.keys(test.timestampColumns).length);
      return {
        sessions: [
          ...(test.restoreLog ? [{ target: test.restoredTarget, statements: 2 }] : []),
          { target: test.sourceTarget, statements: 3 + tables },
          { target: test.restoredTarget, statements: 3 + tables },
        ],
        assumption: `${tables} table(s); each further table adds one statement on each side`,
      };
    }
    default:
      return { sessions: [] };
  }
}

export function runBudgetOf(control: ControlConfig, config: Config): RunBudget {
  const { sessions, assumption } = sessionsOf(control);
  const timeoutOf = (target: string) =>
    config.targets.find((candidate) => candidate.name === target)?.statementTimeoutMs ?? 0;
  const worstCaseMs = sessions.reduce(
    (total, session) => total + CONNECT_TIMEOUT_MS + session.statements * timeoutOf(session.target),
    0,
  );
  return {
    controlId: control.id,
    type: control.test.type,
    sessions,
    worstCaseMs,
    ...(assumption ? { assumption } : {}),
  };
}

export class RunBudgetError extends Error {
  override name = 'RunBudgetError';
}

/**
 * Every control whose worst case, plus the reserve the run keeps for recording the verdict, does not
 * fit in the function timeout: one sentence each, naming the control and the arithmetic.
 */
export function runBudgetProblems(
  config: Config,
  functionTimeoutMs: number,
  options: { reserveMs?: number } = {},
): string[] {
  const reserveMs = options.reserveMs ?? DEFAULT_DEADLINE_RESERVE_MS;
  const seconds = (ms: number) => `${Math.ceil(ms / 1000)} s`;
  return config.controls.flatMap((control) => {
    const budget = runBudgetOf(control, config);
    if (budget.worstCaseMs + reserveMs <= functionTimeoutMs) return [];
    const parts = budget.sessions
      .map((session) => `${session.statements} statement(s) on "${session.target}"`)
      .join(' + ');
    return [
      `control "${control.id}" (${budget.type}) may need ${seconds(budget.worstCaseMs)} (${parts}, each up to ` +
        `its target's statementTimeoutMs, plus ${seconds(CONNECT_TIMEOUT_MS)} per connection` +
        `${budget.assumption ? `; ${budget.assumption}` : ''}) plus ${seconds(reserveMs)} to record its verdict, ` +
        `more than the worker's ${seconds(functionTimeoutMs)} timeout: raise the timeout or lower statementTimeoutMs`,
    ];
  });
}

/** Synth-time check (the stack calls it with the worker's timeout): throws naming every control that cannot fit. */
export function assertRunsFitTimeout(
  config: Config,
  functionTimeoutMs: number,
  options: { reserveMs?: number } = {},
): void {
  const problems = runBudgetProblems(config, functionTimeoutMs, options);
  if (problems.length > 0) throw new RunBudgetError(problems.join('\n'));
}
