import type { Config, ControlConfig } from '../../config/schema.ts';
import { checkDecisions, flaggedAccounts, readReviewedEvidence } from '../../reviews/control-review.ts';
import type { ControlJob } from '../../runs/control-job.ts';
import type { RuntimeResources } from '../../shared/runtime-env.ts';
import type { AwsClients } from '../../wiring/aws-clients.ts';
import { makePeriodEvidenceReader, recordControlReview } from '../../wiring/make-sign-off-deps.ts';

/** A moment of the simulated year at which the demo changes the world the controls read. */
export interface WorldEvent {
  /** Epoch milliseconds: applied before any job scheduled at or after this instant runs. */
  readonly at: number;
  readonly apply: () => Promise<void>;
}

/** How long after a quarter's access review its reviewer signs it off (the control allows 14 days). */
export const REVIEW_SIGN_OFF_AFTER_MS = 6 * 86_400_000;

export interface YearEventHooks {
  readonly asOf: Date;
  /** Rewrites the users table to its state at this instant. */
  readonly usersAt: (at: Date) => Promise<void>;
  readonly signOff: (control: ControlConfig, periodKey: string, at: Date) => Promise<void>;
}

/**
 * The year's world events for these jobs: before each access review runs, the users table as it was
 * then (a users table holds only its present state); for each control with `review: required`, the
 * reviewer's sign-off six days after its run, so schedule health finds every owed review signed.
 */
export function yearEvents(
  config: Config,
  jobs: readonly ControlJob[],
  hooks: YearEventHooks,
): { list: WorldEvent[]; signOffs: number } {
  const list: WorldEvent[] = [];
  let signOffs = 0;
  for (const job of jobs) {
    const control = config.controls.find((candidate) => candidate.id === job.controlId);
    if (!control) continue;
    const runAt = Date.parse(job.asOf);
    if (control.test.type === 'access-review')
      list.push({ at: runAt, apply: () => hooks.usersAt(new Date(runAt)) });
    const signAt = runAt + REVIEW_SIGN_OFF_AFTER_MS;
    if (control.review === 'required' && signAt < hooks.asOf.getTime()) {
      signOffs += 1;
      list.push({ at: signAt, apply: () => hooks.signOff(control, job.periodKey, new Date(signAt)) });
    }
  }
  return { list, signOffs };
}

export interface DemoSignOff {
  readonly control: ControlConfig;
  readonly periodKey: string;
  readonly at: Date;
  readonly config: Config;
  readonly clients: AwsClients;
  readonly resources: Pick<RuntimeResources, 'evidenceBucket' | 'resultsTable'>;
}

/**
 * The reviewer's sign-off of a period, as `soc2-evidence sign-off --control ... --period ...` records
 * it: the period's signed evidence is read and checked, and the review is appended to the control's
 * review chain. The demo's accounts are all in order, so there is nothing flagged to decide; a
 * flagged account would make the sign-off refuse (and the demo fail), as it does for a person.
 */
export async function signOffControlReview(input: DemoSignOff): Promise<void> {
  const { control, periodKey, config, clients, resources } = input;
  const where = { clients, bucket: resources.evidenceBucket, table: resources.resultsTable };
  const { evidence, document } = await readReviewedEvidence(
    control,
    periodKey,
    makePeriodEvidenceReader(where),
  );
  const flagged = flaggedAccounts(control.test.type, document);
  const decisions = checkDecisions(control, periodKey, evidence, flagged, undefined);
  await recordControlReview(
    {
      by: 'Sam Rivera',
      role: 'Security lead',
      note: 'Quarterly access review: every enabled account checked against the HR roster.',
      at: input.at,
      timeZone: config.timeZone,
      control,
      periodKey,
      evidence,
      decisions,
      flagged: flagged.length,
    },
    { ...where, timeZone: config.timeZone },
  );
}
