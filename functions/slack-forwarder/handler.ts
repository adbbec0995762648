import middy from '@middy/core';
import type { SNSEvent } from 'aws-lambda';
import { makeAwsClients } from '../../lib/aws/clients.ts';
import { embeddedConfig } from '../../lib/config/embedded-config.ts';
import { jsonLogger } from '../../lib/logger.ts';
import { makeSecretsWebhookSource } from '../../lib/notify/secrets-webhook-resolver.ts';
import { fetchPost, forwardToSlack, SlackWebhookConfigError } from '../../lib/notify/slack-forwarder.ts';

const config = embeddedConfig();
const secretId = config.notifications?.slack?.webhookSecretId;
if (!secretId) throw new SlackWebhookConfigError('notifications.slack.webhookSecretId is not configured');
const deps = {
  owners: config.owners,
  webhooks: makeSecretsWebhookSource(makeAwsClients().secretsManager, secretId),
  post: fetchPost(10_000),
  log: jsonLogger(),
};

/** SNS -> the owner's Slack channel. Throws on failure: Lambda retries twice, then the DLQ. */
export const handler = middy(async (event: SNSEvent) => {
  for (const record of event.Records) await forwardToSlack(record.Sns, deps);
});
