import type { Config } from '../lib/config/schema.ts';

/** An S3 location a control test reads; no bucket means the evidence bucket. */
export interface S3ReadLocation {
  readonly bucket?: string;
  readonly prefix: string;
}

/** The AWS access the configured control tests need beyond the results, evidence and topic. */
export interface ControlAccess {
  /** Secrets holding target connection strings (`targets[].connection.secretId`). */
  readonly connectionSecrets: readonly string[];
  /** Secrets whose rotation metadata a test reads (secretsmanager:DescribeSecret). */
  readonly describedSecrets: readonly string[];
  /** IAM users whose access key ages a test reads (iam:ListAccessKeys). */
  readonly iamUsers: readonly string[];
  /** S3 prefixes a test lists and reads (scanner reports, attestation uploads). */
  readonly s3Reads: readonly S3ReadLocation[];
  /** A test lists AWS Backup restore jobs. */
  readonly listsRestoreJobs: boolean;
}

type Params = Readonly<Record<string, unknown>>;

const SECRET_KEYS = /^(secretId|secretArn|secretsManagerSecretId|secretsManagerId)$/;
const SECRET_LIST_KEYS = /^(secretIds|secretArns)$/;
const IAM_USER_KEYS = /^(iamUser|iamUserName)$/;
const IAM_USER_LIST_KEYS = /^(iamUsers|iamUserNames)$/;

/**
 * Derives, from the validated config alone, what the runner must be allowed to read. Test
 * parameters are walked by field name (`bucket`/`prefix`, `secretId`, `iamUser`), the conventions
 * every control test's params schema follows, so a new test type needs no change here unless it
 * reads a new kind of AWS resource.
 */
export function controlAccess(config: Config): ControlAccess {
  const describedSecrets = new Set<string>();
  const iamUsers = new Set<string>();
  const s3Reads = new Map<string, S3ReadLocation>();
  let listsRestoreJobs = false;

  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const params = value as Params;
    for (const [key, field] of Object.entries(params)) {
      if (SECRET_KEYS.test(key) && typeof field === 'string') describedSecrets.add(field);
      if (SECRET_LIST_KEYS.test(key)) for (const s of strings(field)) describedSecrets.add(s);
      if (IAM_USER_KEYS.test(key) && typeof field === 'string') iamUsers.add(field);
      if (IAM_USER_LIST_KEYS.test(key)) for (const u of strings(field)) iamUsers.add(u);
      if ((key === 'prefix' || key.endsWith('Prefix')) && typeof field === 'string') {
        const bucketKey = key === 'prefix' ? 'bucket' : `${key.slice(0, -'Prefix'.length)}Bucket`;
        const bucket = typeof params[bucketKey] === 'string' ? (params[bucketKey] as string) : params.bucket;
        // A `{period}` placeholder is filled in at run time: grant the fixed part before it.
        const prefix = field.split('{')[0] ?? '';
        const location: S3ReadLocation = typeof bucket === 'string' ? { bucket, prefix } : { prefix };
        s3Reads.set(`${location.bucket ?? ''}/${location.prefix}`, location);
      }
      if (field !== null && typeof field === 'object') visit(field);
    }
  };

  for (const control of config.controls) {
    if (control.test.type === 'restore-test-history') listsRestoreJobs = true;
    visit(control.test);
  }

  const connectionSecrets = [
    ...new Set(config.targets.flatMap((t) => (t.connection.secretId ? [t.connection.secretId] : []))),
  ];
  return {
    connectionSecrets,
    describedSecrets: [...describedSecrets].sort(),
    iamUsers: [...iamUsers].sort(),
    s3Reads: [...s3Reads.values()],
    listsRestoreJobs,
  };
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
