import { makeSecretsWebhookSource } from '../adapters/secrets-manager/secrets-webhook-resolver.ts';
import type { Config } from '../config/schema.ts';
import { fetchPost, type SlackForwarderDeps, SlackWebhookConfigError } from '../notify/slack-forwarder.ts';
import { jsonLogger } from '../shared/logger.ts';
import { makeAwsClients } from './aws-clients.ts';

/** The forwarder's deps: owners from the config, the webhook URL from the configured secret. */
export function makeSlackForwarderDeps(
  config: Config,
  env: Readonly<Record<string, string | undefined>> = process.env,
): SlackForwarderDeps {
  const secretId = config.notifications?.slack?.webhookSecretId;
  if (!secretId) throw new SlackWebhookConfigError('notifications.slack.webhookSecretId is not configured');
  return {
    owners: config.owners,
    webhooks: makeSecretsWebhookSource(makeAwsClients(env).secretsManager, secretId, {
      allowedHosts: config.notifications?.slack?.allowedHosts,
    }),
    post: fetchPost(10_000),
    log: jsonLogger(),
  };
}
