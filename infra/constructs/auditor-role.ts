import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type HumanRoleTrust, humanRolePrincipal } from './human-role-trust.ts';
import { acknowledgeWildcardResource } from './nag.ts';

export interface AuditorRoleProps extends HumanRoleTrust {
  /** The evidence bucket the auditor reads. */
  readonly bucket: s3.IBucket;
  /** The bucket's encryption key: reading SSE-KMS objects needs kms:Decrypt, through S3 only. */
  readonly encryptionKey: kms.IKey;
  /** Key prefixes the auditor may list and read, each ending in `/`. */
  readonly readablePrefixes: readonly string[];
  /**
   * Where `export --presign` uploads the archive: the auditor may put new objects there, with the
   * short Object Lock retention the upload sets (s3:PutObjectRetention), and nothing else.
   * @default - no uploads
   */
  readonly exportUploadPrefix?: string;
  /**
   * Prefixes whose archived objects the auditor may ask S3 to restore (`export --restore-archived`).
   * A restore makes a temporary readable copy; it never changes or removes the archived object.
   * @default - none
   */
  readonly restorablePrefixes?: readonly string[];
  /**
   * Longest session an auditor gets.
   * @default 1 hour (the IAM default)
   */
  readonly maxSessionDurationHours?: number;
}

/**
 * The auditor's role: list and read the evidence, public keys, checkpoints and exports prefixes of
 * the evidence bucket; optionally upload exports and restore archived evidence for an export. No
 * deletes, no retention changes outside the uploads, no other bucket, no console. The public
 * signing key comes from the key policy (`EncryptionKeys.restrictSigning`).
 */
export class AuditorRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AuditorRoleProps) {
    super(scope, id);
    const objectArns = props.readablePrefixes.map((prefix) => props.bucket.arnForObjects(`${prefix}*`));
    const uploadArn = props.exportUploadPrefix
      ? props.bucket.arnForObjects(`${props.exportUploadPrefix}*`)
      : undefined;
    const restorableArns = (props.restorablePrefixes ?? []).map((prefix) =>
      props.bucket.arnForObjects(`${prefix}*`),
    );
    this.role = new iam.Role(this, 'Role', {
      description:
        'soc2-evidence auditor: reads evidence, public keys, checkpoints and exports; uploads exports',
      assumedBy: humanRolePrincipal(props),
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
              actions: uploadArn ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
              resources: [props.encryptionKey.keyArn],
              conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
            }),
            ...(uploadArn
              ? [
                  new iam.PolicyStatement({
                    sid: 'UploadExports',
                    actions: ['s3:PutObject', 's3:PutObjectRetention'],
                    resources: [uploadArn],
                  }),
                ]
              : []),
            ...(restorableArns.length > 0
              ? [
                  new iam.PolicyStatement({
                    sid: 'RestoreArchivedEvidence',
                    actions: ['s3:RestoreObject'],
                    resources: restorableArns,
                  }),
                ]
              : []),
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
    if (uploadArn) {
      acknowledgeWildcardResource(
        this.role,
        uploadArn,
        `export --presign uploads archives under ${props.exportUploadPrefix} (named by the auditor); no other ` +
          'prefix, and the exports lifecycle rule expires them.',
      );
    }
    for (const arn of restorableArns) {
      acknowledgeWildcardResource(
        this.role,
        arn,
        'export --restore-archived asks S3 for a temporary readable copy of archived evidence; the object ' +
          'itself is never changed.',
      );
    }
  }
}
