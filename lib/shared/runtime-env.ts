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

const RESOURCE_ENV: Record<keyof RuntimeResources, string> = {
  resultsTable: ENV.resultsTable,
  evidenceBucket: ENV.evidenceBucket,
  notificationsTopicArn: ENV.notificationsTopicArn,
  jobsQueueUrl: ENV.jobsQueueUrl,
  signingKeyId: ENV.signingKeyId,
};

/**
 * Reads resource names from the environment at cold start; throws naming every missing variable.
 * `needed` lists what this caller uses (the dispatcher needs only the queue).
 */
export function loadRuntimeResources<K extends keyof RuntimeResources>(
  env: Readonly<Record<string, string | undefined>>,
  needed: readonly K[],
): Pick<RuntimeResources, K> & Partial<RuntimeResources> {
  const missing = needed.filter((key) => !env[RESOURCE_ENV[key]]).map((key) => RESOURCE_ENV[key]);
  if (missing.length > 0) throw new RuntimeEnvError(`missing configuration: set ${missing.join(', ')}`);
  const resources: Partial<Record<keyof RuntimeResources, string>> = {};
  for (const [key, name] of Object.entries(RESOURCE_ENV) as [keyof RuntimeResources, string][]) {
    const value = env[name];
    if (value) resources[key] = value;
  }
  return resources as Pick<RuntimeResources, K> & Partial<RuntimeResources>;
}
