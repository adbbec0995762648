import type { Config } from '../lib/config/schema.ts';
import type { ResourcelessAwsApi } from '../lib/controls/control-needs.ts';
import { controlNeeds } from '../lib/controls/registry.ts';

/** An S3 location a control test reads; no bucket means the evidence bucket. */
export interface S3ReadLocation {
  readonly bucket?: string;
  readonly prefix: string;
}

/** The AWS access the configured control tests need beyond the results, evidence and topic. */
export interface ControlAccess {
  /** Secrets holding the connection strings of the targets some control opens (`targets[].connection.secretId`). */
  readonly connectionSecrets: readonly string[];
  /** Secrets whose rotation metadata a test reads (secretsmanager:DescribeSecret). */
  readonly describedSecrets: readonly string[];
  /** IAM users whose access key ages a test reads (iam:ListAccessKeys). */
  readonly iamUsers: readonly string[];
  /** S3 prefixes a test lists and reads (scanner reports, attestation uploads). */
  readonly s3Reads: readonly S3ReadLocation[];
  /** APIs without resource ARNs some test calls (granted on `*`). */
  readonly awsApis: readonly ResourcelessAwsApi[];
}

/**
 * What the runners must be allowed to read, from the validated config alone: the union of what
 * each configured control test declares it needs (`ControlTest.needs`). Nothing here knows a
 * parameter name, so a new test type needs no change here unless it calls a new kind of AWS API.
 */
export function controlAccess(config: Config): ControlAccess {
  const targets = new Set<string>();
  const describedSecrets = new Set<string>();
  const iamUsers = new Set<string>();
  const s3Reads = new Map<string, S3ReadLocation>();
  const awsApis = new Set<ResourcelessAwsApi>();

  for (const control of config.controls) {
    const needs = controlNeeds(control.test);
    for (const target of needs.targets) targets.add(target.name);
    for (const secret of needs.describedSecrets) describedSecrets.add(secret.secretId);
    for (const user of needs.iamUsers) iamUsers.add(user.userName);
    for (const { bucket, prefix } of needs.s3Reads) {
      s3Reads.set(`${bucket ?? ''}/${prefix}`, bucket === undefined ? { prefix } : { bucket, prefix });
    }
    for (const api of needs.awsApis) awsApis.add(api);
  }

  const connectionSecrets = config.targets.flatMap((target) =>
    targets.has(target.name) && target.connection.secretId ? [target.connection.secretId] : [],
  );
  return {
    connectionSecrets: [...new Set(connectionSecrets)],
    describedSecrets: [...describedSecrets].sort(),
    iamUsers: [...iamUsers].sort(),
    s3Reads: [...s3Reads.values()],
    awsApis: [...awsApis].sort(),
  };
}
