import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag.ts';

export interface AuditorRoleProps {
  /** The evidence bucket the auditor reads. */
  readonly bucket: s3.IBucket;
  /** The bucket's encryption key: reading SSE-KMS objects needs kms:Decrypt, through S3 only. */
  readonly encryptionKey: kms.IKey;
  /** Key prefixes the auditor may list and read, each ending in `/`. */
  readonly readablePrefixes: readonly string[];
  /**
   * Principals allowed to assume the role (IAM user, role or account ARNs).
   * @default - this account: any of its principals whose own policy allows sts:AssumeRole on the role
   */
  readonly trustedPrincipalArns?: readonly string[];
  /**
   * Require MFA when assuming the role (`aws:MultiFactorAuthPresent`). Off by default because
   * sessions federated through IAM Identity Center do not carry that key and would be refused.
   * @default false
   */
  readonly requireMfa?: boolean;
  /**
   * Longest session an auditor gets.
   * @default 1 hour (the IAM default)
   */
  readonly maxSessionDurationHours?: number;
}

/**
 * A read-only role for the auditor: list and read the evidence, public keys and exports prefixes
 * of the evidence bucket, and nothing else (no writes, no deletes, no other bucket, no console).
 */
export class AuditorRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AuditorRoleProps) {
    super(scope, id);
    const principals = (props.trustedPrincipalArns ?? []).map((arn) => new iam.ArnPrincipal(arn));
    const trusted: iam.IPrincipal =
      principals.length === 0
        ? new iam.AccountRootPrincipal()
        : principals.length === 1 && principals[0]
          ? principals[0]
          : new iam.CompositePrincipal(...principals);
    const assumedBy = props.requireMfa
      ? new iam.PrincipalWithConditions(trusted, { Bool: { 'aws:MultiFactorAuthPresent': 'true' } })
      : trusted;

    const objectArns = props.readablePrefixes.map((prefix) => props.bucket.arnForObjects(`${prefix}*`));
    this.role = new iam.Role(this, 'Role', {
      description: 'soc2-evidence auditor: read-only access to evidence, public keys and exports',
      assumedBy,
      maxSessionDuration: Duration.hours(props.maxSessionDurationHours ?? 1),
      inlinePolicies: {
        ReadEvidence: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'ListTheEvidencePrefixes',
              actions: ['s3:ListBucket', 's3:ListBucketVersions'],
              resources: [props.bucket.bucketArn],
              conditions: {
                StringLike: { 's3:prefix': props.readablePrefixes.flatMap((p) => [p, `${p}*`]) },
              },
            }),
            new iam.PolicyStatement({
              sid: 'ReadEvidenceObjectsAndTheirRetention',
              actions: [
                's3:GetObject',
                's3:GetObjectVersion',
                's3:GetObjectRetention',
                's3:GetObjectLegalHold',
              ],
              resources: objectArns,
            }),
            new iam.PolicyStatement({
              sid: 'DecryptThroughS3Only',
              actions: ['kms:Decrypt'],
              resources: [props.encryptionKey.keyArn],
              conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
            }),
          ],
        }),
      },
    });
    for (const [index, prefix] of props.readablePrefixes.entries()) {
      acknowledgeWildcardResource(
        this.role,
        objectArns[index] ?? '',
        `The auditor reads every object under ${prefix} (read-only actions); the prefix is the boundary.`,
      );
    }
  }
}
