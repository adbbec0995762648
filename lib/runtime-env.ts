import { z } from 'zod';

/**
 * Environment variable names shared by `infra/` (which sets them) and `functions/` + the CLI (which
 * read them), so the two cannot drift. A construct helper sets each one with its IAM grant.
 */
export const ENV = {
  resultsTable: 'SOC2_RESULTS_TABLE',
  evidenceBucket: 'SOC2_EVIDENCE_BUCKET',
  notificationsTopicArn: 'SOC2_NOTIFICATIONS_TOPIC_ARN',
  jobsQueueUrl: 'SOC2_JOBS_QUEUE_URL',
  /** KMS key id/ARN for manifest signatures; absent locally, where a generated key signs. */
  signingKeyId: 'SOC2_SIGNING_KEY_ID',
} as const;

const nonEmpty = (name: string) => z.string({ message: `${name} is not set` }).min(1, `${name} is empty`);

export const runtimeEnvSchema = z.object({
  [ENV.resultsTable]: nonEmpty(ENV.resultsTable),
  [ENV.evidenceBucket]: nonEmpty(ENV.evidenceBucket),
  [ENV.notificationsTopicArn]: nonEmpty(ENV.notificationsTopicArn),
  [ENV.jobsQueueUrl]: nonEmpty(ENV.jobsQueueUrl),
  [ENV.signingKeyId]: z.string().min(1).optional(),
});

export interface RuntimeResources {
  readonly resultsTable: string;
  readonly evidenceBucket: string;
  readonly notificationsTopicArn: string;
  readonly jobsQueueUrl: string;
  readonly signingKeyId?: string;
}

export class RuntimeEnvError extends Error {
  override name = 'RuntimeEnvError';
}

/** Reads resource names from the environment; throws naming every missing variable. */
export function loadRuntimeResources(env: Readonly<Record<string, string | undefined>>): RuntimeResources {
  const parsed = runtimeEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new RuntimeEnvError(`missing configuration: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  const data = parsed.data;
  return {
    resultsTable: data[ENV.resultsTable],
    evidenceBucket: data[ENV.evidenceBucket],
    notificationsTopicArn: data[ENV.notificationsTopicArn],
    jobsQueueUrl: data[ENV.jobsQueueUrl],
    ...(data[ENV.signingKeyId] ? { signingKeyId: data[ENV.signingKeyId] } : {}),
  };
}
