import { ENV } from '../shared/runtime-env.ts';

export interface KeptServices {
  /** The `AWS_*` variables that aim the SDK at the emulators (region, dummy keys, endpoints). */
  readonly awsEnv: Readonly<Record<string, string>>;
  readonly resources: {
    readonly resultsTable: string;
    readonly evidenceBucket: string;
    readonly notificationsTopicArn: string;
    readonly jobsQueueUrl: string;
  };
  /** Connection strings of the kept databases, by the env var the config's targets read. */
  readonly databases: Readonly<Record<string, string>>;
}

/**
 * Every variable `run`, `export` and the AWS CLI (v1 and v2) need to use services left running by
 * `demo --keep`, as `export NAME=value` lines ready to paste into a shell: the stack outputs `run`
 * reads, the region under both names (CLI v1 reads only AWS_DEFAULT_REGION), the emulators'
 * endpoints and dummy keys, and the demo databases.
 */
export function keptServicesEnv(kept: KeptServices): Record<string, string> {
  const region = kept.awsEnv.AWS_REGION ?? 'us-east-1';
  return {
    [ENV.resultsTable]: kept.resources.resultsTable,
    [ENV.evidenceBucket]: kept.resources.evidenceBucket,
    [ENV.notificationsTopicArn]: kept.resources.notificationsTopicArn,
    [ENV.jobsQueueUrl]: kept.resources.jobsQueueUrl,
    ...kept.awsEnv,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: kept.awsEnv.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: kept.awsEnv.AWS_SECRET_ACCESS_KEY ?? 'local',
    ...kept.databases,
  };
}

/** Shell-quotes a value for `export NAME='value'` (single quotes, embedded ones escaped). */
const quote = (value: string) =>
  /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;

/** The block `demo --keep` prints: one paste sets everything, with the caveats that bite. */
export function renderKeptServicesBlock(kept: KeptServices): string {
  const env = keptServicesEnv(kept);
  const sqs = env.AWS_ENDPOINT_URL_SQS;
  return [
    '# --- paste into a shell: run, export and the AWS CLI then use the kept services ---',
    ...Object.entries(env).map(([name, value]) => `export ${name}=${quote(value)}`),
    '# ---',
    "# These emulators hold the DEMO's data and verdicts (under the example config's control ids):",
    "# a run of your own config here adds attempts to the demo's periods. For your own database use",
    '# `soc2-evidence run --local` instead: its state persists in .soc2-evidence/ and never mixes.',
    `# e.g.  soc2-evidence run --cadence monthly   |   aws s3 ls s3://${env[ENV.evidenceBucket]}/evidence/`,
    ...(sqs ? [`# AWS CLI v1 ignores AWS_ENDPOINT_URL_SQS: aws sqs ... --endpoint-url ${sqs}`] : []),
  ].join('\n');
}
