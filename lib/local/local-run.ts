import { DateTime } from 'luxon';
import type { Config } from '../config/schema.ts';
import { parseSignedCheckpoint } from '../evidence/checkpoint.ts';
import { type CheckpointDeps, writeCheckpoint } from '../evidence/write-checkpoint.ts';
import { type BackfillPlan, backfillJobs } from '../runs/backfill.ts';
import type { ControlJob } from '../runs/control-job.ts';
import { dueJobs } from '../runs/dispatch-due-controls.ts';
import { type JobsOutcome, runJobs } from '../runs/run-jobs.ts';
import type { Logger } from '../shared/logger.ts';
import { type Cadence, periodFromKey } from '../shared/period.ts';
import type { ProgressBar } from '../shared/progress-bar.ts';
import { makeLocalCheckpointDeps, makeLocalRunDeps } from '../wiring/make-local-run-deps.ts';
import { openLocalState } from './local-state.ts';

export interface LocalRunRequest {
  readonly config: Config;
  readonly stateDir?: string;
  readonly cadences: readonly Cadence[];
  readonly asOf: Date;
  readonly controlIds?: readonly string[];
  /** Run every period since this date instead of only the last complete one. */
  readonly backfillFrom?: Date;
  readonly maxPeriodsPerControl?: number;
  /** Where the targets' connection env vars are read (DATABASE_URL, ...). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  readonly progress: ProgressBar;
  /** Write a checkpoint after every this many jobs (and always at the end). @default 100 */
  readonly checkpointEvery?: number;
  readonly clock?: () => Date;
}

export interface LocalRunResult extends JobsOutcome {
  readonly jobs: number;
  readonly capped: BackfillPlan['capped'];
  readonly checkpoints: number;
  readonly stateDir: string;
  readonly bucketDir: string;
  readonly notificationsFile: string;
}

// At one instant the daily schedule runs last: its schedule-health control checks the others.
const runOrder = (cadence: Cadence) => (cadence === 'daily' ? 1 : 0);

/**
 * When each control is in force, for local runs: the earliest of its configured `addedOn`, the
 * `addedOn` the newest local checkpoint recorded (an earlier run or backfill), and the first period
 * this run covers for it. The checkpoints state it, so `verify` expects every period the runs were
 * asked for (a period that could not be recorded shows up as missing instead of passing unnoticed),
 * and schedule health owes exactly those periods, not the ones before a backfill's start.
 */
export function localInForceConfig(
  config: Config,
  jobs: readonly ControlJob[],
  recorded: ReadonlyMap<string, string> = new Map(),
): Config {
  const firstDay = new Map<string, string>();
  for (const job of jobs) {
    const start = periodFromKey(job.cadence, job.periodKey, config.timeZone).start;
    const day = DateTime.fromJSDate(start, { zone: config.timeZone }).toISODate() ?? '';
    const known = firstDay.get(job.controlId);
    if (!known || day < known) firstDay.set(job.controlId, day);
  }
  return {
    ...config,
    controls: config.controls.map((control) => {
      const days = [control.addedOn, recorded.get(control.id), firstDay.get(control.id)].filter(
        (day): day is string => Boolean(day),
      );
      const addedOn = days.sort()[0];
      return addedOn ? { ...control, addedOn } : control;
    }),
  };
}

/** The `addedOn` of each control in the newest checkpoint of the state, if there is one. */
async function recordedAddedOn(deps: CheckpointDeps): Promise<Map<string, string>> {
  const head = await deps.checkpoints.read();
  if (!head) return new Map();
  const { checkpoint } = parseSignedCheckpoint(Buffer.from(head.body, 'utf8'));
  return new Map(checkpoint.controls.map((control) => [control.id, control.addedOn]));
}

/**
 * `run --local`: the due jobs (or, with `backfillFrom`, every period since then) through the worker
 * code against the state folder, then a signed checkpoint (also every `checkpointEvery` jobs), as
 * the deployed checkpoint writer would write one after the runs.
 */
export async function runLocal(request: LocalRunRequest): Promise<LocalRunResult> {
  const { config } = request;
  let jobs: readonly ControlJob[];
  let capped: BackfillPlan['capped'] = [];
  if (request.backfillFrom) {
    const plan = backfillJobs(config, {
      from: request.backfillFrom,
      asOf: request.asOf,
      cadences: request.cadences,
      ...(request.controlIds ? { controlIds: request.controlIds } : {}),
      ...(request.maxPeriodsPerControl ? { maxPeriodsPerControl: request.maxPeriodsPerControl } : {}),
    });
    jobs = plan.jobs;
    capped = plan.capped;
  } else {
    jobs = [...request.cadences]
      .sort((a, b) => runOrder(a) - runOrder(b))
      .flatMap((cadence) =>
        dueJobs(config, {
          cadence,
          asOf: request.asOf,
          ...(request.controlIds ? { controlIds: request.controlIds } : {}),
        }),
      );
  }
  const state = await openLocalState(request.stateDir);
  try {
    const recorded = await recordedAddedOn(makeLocalCheckpointDeps(config, state));
    const inForce = localInForceConfig(config, jobs, recorded);
    const deps = makeLocalRunDeps({
      config: inForce,
      stores: state,
      env: request.env,
      log: request.log,
      ...(request.clock ? { clock: request.clock } : {}),
    });
    const checkpointDeps = makeLocalCheckpointDeps(inForce, state, request.clock);
    const every = request.checkpointEvery ?? 100;
    let checkpoints = 0;
    let checkpointedAt = 0;
    const outcome = await runJobs(deps, jobs, async (done, total) => {
      request.progress.update(done, total, 0);
      if (done - checkpointedAt >= every && done < total) {
        await writeCheckpoint(checkpointDeps);
        checkpoints += 1;
        checkpointedAt = done;
      }
    });
    request.progress.finish();
    await writeCheckpoint(checkpointDeps);
    checkpoints += 1;
    return {
      ...outcome,
      jobs: jobs.length,
      capped,
      checkpoints,
      stateDir: state.dir,
      bucketDir: state.bucketDir,
      notificationsFile: state.notificationsFile,
    };
  } finally {
    await state.close();
  }
}
