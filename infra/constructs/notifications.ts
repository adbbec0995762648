import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { OwnerConfig } from '../../lib/config/schema.ts';
import { type FilterPolicy, ownerFilterPolicy } from '../../lib/notify/filter-policies.ts';

export interface NotificationsProps {
  /** Customer-managed key for both topics. */
  readonly encryptionKey: kms.IKey;
  /** Owners from the config: each gets an email subscription filtered to their own messages. */
  readonly owners: readonly OwnerConfig[];
  /**
   * The filter policy of an owner's subscription (on the `owner` message attribute).
   * @default - `ownerFilterPolicy(ownerId)` from lib/notify/filter-policies.ts: `{ owner: [ownerId] }`
   */
  readonly ownerFilterPolicy?: (ownerId: string) => Record<string, sns.SubscriptionFilter>;
  /**
   * Email addresses subscribed to the operations alarm topic.
   * @default - none (subscribe a pager or chat integration after deploy)
   */
  readonly alarmEmails?: readonly string[];
}

/**
 * The owners' notifications topic (one filtered email subscription per owner) and a separate
 * operations topic for CloudWatch alarms, both KMS-encrypted and refusing non-TLS publishers.
 */
export class Notifications extends Construct {
  /** Control failures, errors and risk digests, routed per owner by message attributes. */
  readonly topic: sns.Topic;
  /** CloudWatch alarms (dead-letter queues, failed deliveries) for whoever runs the stack. */
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'soc2-evidence notifications',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    const filterPolicy = props.ownerFilterPolicy ?? defaultOwnerFilterPolicy;
    for (const owner of props.owners) {
      this.topic.addSubscription(
        new subscriptions.EmailSubscription(owner.email, { filterPolicy: filterPolicy(owner.id) }),
      );
    }

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'soc2-evidence operational alarms',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    // The topic policy CDK writes for enforceSSL replaces SNS's default one, so CloudWatch alarms of
    // this account are allowed to publish explicitly.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    for (const email of props.alarmEmails ?? []) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}

/** An SNS filter policy from `lib/notify/filter-policies.ts` as CDK subscription filters. */
export function subscriptionFilters(policy: FilterPolicy): Record<string, sns.SubscriptionFilter> {
  return Object.fromEntries(
    Object.entries(policy).map(([attribute, values]) => [
      attribute,
      sns.SubscriptionFilter.stringFilter({ allowlist: [...values] }),
    ]),
  );
}

function defaultOwnerFilterPolicy(ownerId: string): Record<string, sns.SubscriptionFilter> {
  return subscriptionFilters(ownerFilterPolicy(ownerId));
}
