import type { ControlConfig } from '../../lib/config/schema.ts';
import {
  ControlCheckError,
  type ControlOutcome,
  EvidenceLog,
  errorOutcome,
} from '../../lib/controls/outcome.ts';
import type { ControlPorts, PostgresPort } from '../../lib/controls/ports.ts';
import { controlTestParamsSchema, runControlTest } from '../../lib/controls/registry.ts';
import type { AttemptRecord } from '../../lib/runs/run-record.ts';
import { type Cadence, periodFromKey } from '../../lib/shared/period.ts';

/** A PostgreSQL port for tests that must not touch a database. */
export const noPostgres: PostgresPort = {
  async withReadOnlySession() {
    throw new ControlCheckError('no database in this test');
  },
};

export interface HarnessRun {
  readonly outcome: ControlOutcome;
  readonly evidence: EvidenceLog;
}

/**
 * Runs a control test the way the runner does: params validated by the one config schema (so
 * defaults apply), thrown errors turned into an `error` verdict naming the cause.
 */
export async function runTest(options: {
  test: Record<string, unknown>;
  cadence: Cadence;
  periodKey: string;
  asOf: Date | string;
  /** The clock at the check. @default asOf */
  now?: Date | string;
  ports: Partial<ControlPorts>;
  controlId?: string;
  addedOn?: string;
  timeZone?: string;
}): Promise<HarnessRun> {
  const params = controlTestParamsSchema.parse(options.test);
  const timeZone = options.timeZone ?? 'UTC';
  const control: ControlConfig = {
    id: options.controlId ?? 'control-under-test',
    title: 'Control under test',
    criteria: ['CC4.1'],
    cadence: options.cadence,
    owner: 'security',
    ...(options.addedOn ? { addedOn: options.addedOn } : {}),
    test: params,
  };
  const evidence = new EvidenceLog();
  let outcome: ControlOutcome;
  try {
    outcome = await runControlTest(params, {
      control,
      period: periodFromKey(options.cadence, options.periodKey, timeZone),
      asOf: new Date(options.asOf),
      now: new Date(options.now ?? options.asOf),
      ports: { postgres: noPostgres, ...options.ports },
      evidence,
    });
  } catch (error) {
    outcome = errorOutcome(error instanceof Error ? error.message : String(error));
  }
  return { outcome, evidence };
}

/**
 * A stored attempt for a control's period, as the runner records one: finished `finishedAt` (by
 * default ten minutes after the period's end), evidence keys that are placeholders (schedule health
 * reads verdicts, not evidence).
 */
export function periodAttempt(
  controlId: string,
  cadence: Cadence,
  periodKey: string,
  verdict: AttemptRecord['verdict'],
  finishedAt?: string,
): AttemptRecord {
  const period = periodFromKey(cadence, periodKey, 'UTC');
  const at = finishedAt ?? new Date(period.end.getTime() + 600_000).toISOString();
  return {
    controlId,
    cadence,
    periodKey,
    periodStart: period.start.toISOString(),
    periodEnd: period.end.toISOString(),
    verdict,
    reasons: verdict === 'pass' ? [] : ['something'],
    warnings: [],
    figures: {},
    runId: `${at.replace(/[-:.]/g, '')}-${Math.random().toString(16).slice(2, 8)}`,
    startedAt: at,
    finishedAt: at,
    evidenceKey: 'evidence/x',
    evidenceSha256: '0'.repeat(64),
    manifestKey: 'evidence/m',
    manifestSha256: '0'.repeat(64),
  };
}
