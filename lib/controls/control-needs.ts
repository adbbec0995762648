/**
 * What one configured control test reads, declared by the test itself from its validated params.
 * Config validation (unknown target) and the CDK grants (infra/control-access.ts) read this
 * declaration; neither guesses from parameter names, so a new parameter without a declaration is
 * a missing grant the per-type needs test catches, not a failure after deploy.
 */

/** Where in the control's config a need comes from: `['test', 'secrets', 0, 'secretId']`. */
export type ConfigFieldPath = readonly ['test', ...(string | number)[]];

/** A PostgreSQL target (by `targets[].name`) the test opens a read-only session on. */
export interface TargetNeed {
  readonly name: string;
  readonly field: ConfigFieldPath;
}

/** A Secrets Manager secret whose metadata the test reads (`secretsmanager:DescribeSecret`, never the value). */
export interface SecretNeed {
  readonly secretId: string;
  readonly field: ConfigFieldPath;
}

/** An IAM user whose access keys the test lists (`iam:ListAccessKeys`). */
export interface IamUserNeed {
  readonly userName: string;
  readonly field: ConfigFieldPath;
}

/**
 * S3 objects the test lists and reads (`s3:ListBucket` on the prefix, `s3:GetObject` below it).
 * No bucket means the deployment's evidence bucket. `prefix` is the fixed part: a `{period}`
 * placeholder is filled in at run time, so the grant stops before it.
 */
export interface S3ReadNeed {
  readonly bucket?: string;
  readonly prefix: string;
  readonly field: ConfigFieldPath;
}

/**
 * AWS APIs a test calls that take no resource ARN (granted on `*`). Each one is a member of this
 * union so that infra/control-access.ts must say how to grant it before the code compiles.
 */
export type ResourcelessAwsApi = 'backup:ListRestoreJobs';

export interface ControlNeeds {
  readonly targets: readonly TargetNeed[];
  readonly describedSecrets: readonly SecretNeed[];
  readonly iamUsers: readonly IamUserNeed[];
  readonly s3Reads: readonly S3ReadNeed[];
  readonly awsApis: readonly ResourcelessAwsApi[];
}

/** A test that reads only what every runner has (the results table): schedule health, for one. */
export const NO_NEEDS: ControlNeeds = {
  targets: [],
  describedSecrets: [],
  iamUsers: [],
  s3Reads: [],
  awsApis: [],
};

/** Needs with the given parts; the rest empty. */
export function needs(parts: Partial<ControlNeeds>): ControlNeeds {
  return { ...NO_NEEDS, ...parts };
}

/** The target a single `target`-style field names. */
export function targetNeed(name: string, field: string): TargetNeed {
  return { name, field: ['test', field] };
}

/** An S3 read of `prefix` (up to any `{period}` placeholder) in `bucket` or the evidence bucket. */
export function s3ReadNeed(bucket: string | undefined, prefix: string, field: string): S3ReadNeed {
  const fixed = prefix.split('{')[0] ?? '';
  return { ...(bucket === undefined ? {} : { bucket }), prefix: fixed, field: ['test', field] };
}

/** `test.secrets[0].secretId`, the way error messages and docs write a field path. */
export function formatFieldPath(path: readonly (string | number)[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`))
    .join('');
}
