import type { Config, ControlConfig } from '../config/schema.ts';
import { type Cadence, lastCompletePeriod } from '../shared/period.ts';
import type { ControlJob } from './control-job.ts';

export interface JobQueue {
  /** Enqueues every job; throws if any could not be enqueued, naming them. */
  enqueue(jobs: readonly ControlJob[]): Promise<void>;
}

export interface DispatchRequest {
  readonly cadence: Cadence;
  readonly asOf: Date;
  /** Only these controls (CLI `--control`); all of the cadence when absent. */
  readonly controlIds?: readonly string[];
}

export class UnknownControlError extends Error {
  override name = 'UnknownControlError';
}

/** Throws {@link UnknownControlError} naming every id the config does not define. */
export function assertKnownControls(config: Config, ids: readonly string[] | undefined): void {
  const unknown = (ids ?? []).filter((id) => !config.controls.some((control) => control.id === id));
  if (unknown.length > 0) {
    throw new UnknownControlError(
      `unknown control ${unknown.join(', ')}; expected one of ${config.controls.map((c) => c.id).join(', ')}`,
    );
  }
}

/** The controls of a cadence that are due, each for the last complete period as of `asOf`. */
export function dueJobs(config: Config, request: DispatchRequest): ControlJob[] {
  const wanted = request.controlIds;
  assertKnownControls(config, wanted);
  const period = lastCompletePeriod(request.cadence, request.asOf, config.timeZone);
  return config.controls
    .filter((control: ControlConfig) => control.cadence === request.cadence)
    .filter((control) => !wanted || wanted.includes(control.id))
    .map((control) => ({
      controlId: control.id,
      cadence: control.cadence,
      periodKey: period.key,
      asOf: request.asOf.toISOString(),
    }));
}

export async function dispatchDueControls(
  config: Config,
  request: DispatchRequest,
  queue: JobQueue,
): Promise<ControlJob[]> {
  const jobs = dueJobs(config, request);
  await queue.enqueue(jobs);
  return jobs;
}
