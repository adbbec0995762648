import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type HumanRoleTrust, humanRolePrincipal } from './human-role-trust.ts';
import { acknowledgeWildcardResource } from './nag.ts';

export interface ReviewerRoleProps extends HumanRoleTrust {
  readonly bucket: s3.IBucket;
  readonly table: dynamodb.ITable;
  /** Encrypts the bucket and the table. */
  readonly dataKey: kms.IKey;
  readonly signingKey: kms.IKey;
  /**
   * Evidence prefixes sign-offs are written under, each ending in `/` (`evidence/*.review/`, the
   * risk register's chain, the public keys): nothing else in the bucket can be written.
   */
  readonly writablePrefixes: readonly string[];
  /** Results-table partitions sign-offs write (their verdicts and chain heads), as LeadingKeys patterns. */
  readonly writablePartitions: readonly string[];
  /** The prefix whose evidence the reviewer reads (the period's evidence, earlier sign-offs). */
  readonly readablePrefix: string;
}

/**
 * The one human role that may sign: `soc2-evidence sign-off` and `risks sign-off` run as it. It
 * signs with the stack's key (the key policy lists it beside the runners), writes new objects only
 * under the sign-off chains' prefixes and the public keys, and writes results-table items only in the
 * sign-off chains' partitions; it reads evidence to bind what it reviews. No delete, no retention
 * change, no other control's prefix or partition.
 */
export class ReviewerRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ReviewerRoleProps) {
    super(scope, id);
    const writeArns = props.writablePrefixes.map((prefix) => props.bucket.arnForObjects(`${prefix}*`));
    const readArn = props.bucket.arnForObjects(`${props.readablePrefix}*`);
    this.role = new iam.Role(this, 'Role', {
      description:
        'soc2-evidence reviewer: records signed sign-offs (control periods, documents, risk register)',
      assumedBy: humanRolePrincipal(props),
      maxSessionDuration: Duration.hours(1),
    });
    // A separate policy resource, not an inline one: the key policy names this role, so the role
    // itself must not depend on the key (that would be a dependency cycle).
    for (const statement of [
      new iam.PolicyStatement({
        sid: 'WriteSignOffs',
        actions: ['s3:PutObject'],
        resources: writeArns,
      }),
      new iam.PolicyStatement({ sid: 'ReadEvidence', actions: ['s3:GetObject'], resources: [readArn] }),
      new iam.PolicyStatement({
        sid: 'ReadVerdicts',
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resources: [props.table.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'WriteSignOffVerdicts',
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...props.writablePartitions] },
        },
      }),
      new iam.PolicyStatement({
        sid: 'DataKey',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.dataKey.keyArn],
      }),
      new iam.PolicyStatement({
        sid: 'Sign',
        actions: ['kms:Sign', 'kms:GetPublicKey'],
        resources: [props.signingKey.keyArn],
      }),
    ])
      this.role.addToPrincipalPolicy(statement);
    for (const arn of [...writeArns, readArn])
      acknowledgeWildcardResource(
        this.role,
        arn,
        'Sign-off keys name chain, period and run, so they are not known in advance; PutObject only under the ' +
          'sign-off prefixes (Object Lock keeps every version), GetObject to bind the evidence reviewed.',
      );
  }
}
