import type { EvidenceLog } from './control-test.ts';

/** A read-only SQL session on one named target; every query is recorded in the evidence. */
export interface ReadOnlySession {
  query<Row extends Record<string, unknown>>(label: string, text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** Opens read-only, statement-time-limited transactions on the configured PostgreSQL targets. */
export interface PostgresPort {
  withReadOnlySession<T>(target: string, evidence: EvidenceLog, work: (session: ReadOnlySession) => Promise<T>): Promise<T>;
}

/**
 * Everything a control test may touch. Optional ports are absent where the deployment has no such
 * source; a test that needs a missing port reports `error`, never `pass`.
 */
export interface ControlPorts {
  readonly postgres: PostgresPort;
}
