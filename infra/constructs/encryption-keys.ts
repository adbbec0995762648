import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface EncryptionKeysProps {
  /**
   * What happens to both keys when the stack is deleted. Evidence stays encrypted under the data key
   * for years and its signatures are checked against the signing key, so both outlive the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Days KMS waits before deleting a key scheduled for deletion (only with a DESTROY removal policy).
   * @default 30
   */
  readonly pendingWindowDays?: number;
}

/**
 * The two customer-managed keys: a symmetric data key (rotation on) that encrypts the table, the
 * evidence bucket, topics, queues and log groups; and an asymmetric ECC_NIST_P256 SIGN_VERIFY key
 * that signs evidence manifests. Nobody can extract the private half of the signing key.
 */
export class EncryptionKeys extends Construct {
  /** Symmetric CMK for data at rest. */
  readonly dataKey: kms.Key;
  /** Asymmetric key for manifest signatures (ECDSA_SHA_256). */
  readonly signingKey: kms.Key;

  constructor(scope: Construct, id: string, props: EncryptionKeysProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const pendingWindow = Duration.days(props.pendingWindowDays ?? 30);
    const stack = Stack.of(this);

    this.dataKey = new kms.Key(this, 'DataKey', {
      description: 'soc2-evidence: encrypts results, evidence, notifications, queues and logs',
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow,
    });
    // CloudWatch Logs encrypts log groups with the key itself, scoped to this account's log groups.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    this.signingKey = new kms.Key(this, 'SigningKey', {
      description:
        'soc2-evidence: signs evidence manifests (ECDSA_SHA_256); the public key is published beside the evidence',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy,
      pendingWindow,
    });
  }

  /**
   * Makes the signing key sign for the given roles only. The key policy denies `kms:Sign` to every
   * other principal (the account root and administrators with `kms:*` included: an explicit deny
   * beats any allow) and denies creating grants that would hand `Sign` to anyone. `readers` may
   * fetch the public key from KMS (auditors pin it), through the key policy alone. Call once,
   * after every signer exists. Still possible for an administrator: `kms:PutKeyPolicy` to remove
   * these statements, which CloudTrail records (KMS refuses a policy that locks out its own
   * administrators, so that action cannot be denied here).
   */
  restrictSigning(options: {
    readonly signers: readonly iam.IRole[];
    readonly readers: readonly iam.IRole[];
  }): void {
    if (options.signers.length === 0) throw new Error('restrictSigning: expected at least one signer role');
    const signerArns = options.signers.map((role) => role.roleArn);
    this.signingKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheRunnersSign',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': signerArns } },
      }),
    );
    this.signingKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoGrantsToSign',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { 'ForAnyValue:StringEquals': { 'kms:GrantOperations': ['Sign'] } },
      }),
    );
    if (options.readers.length > 0) {
      this.signingKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AuditorsReadThePublicKey',
          principals: options.readers.map((role) => new iam.ArnPrincipal(role.roleArn)),
          actions: ['kms:GetPublicKey', 'kms:DescribeKey'],
          resources: ['*'],
        }),
      );
    }
  }

  /**
   * Lets an AWS service principal use the data key: EventBridge and SNS writing to an encrypted
   * dead-letter queue (scoped to this account with `aws:SourceAccount`), CloudWatch publishing alarms
   * to the encrypted alarm topic (AWS documents that grant without a source condition; the topic's
   * own policy limits publishers to this account's alarms).
   */
  allowServiceToUseDataKey(
    servicePrincipal: string,
    options: { readonly sourceAccountCondition?: boolean } = {},
  ): void {
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `Allow${servicePrincipal.split('.')[0]}ToUseTheKey`,
        principals: [new iam.ServicePrincipal(servicePrincipal)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        ...((options.sourceAccountCondition ?? true)
          ? { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }
          : {}),
      }),
    );
  }
}
