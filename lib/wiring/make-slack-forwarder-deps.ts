import { makeSecretsWebhookSource } from '../adapters/secrets-manager/secrets-webhook-resolver.ts';
import { embeddedConfig } from '../config/embedded-config.ts';
import type { Config } from '../config/schema.ts';
import { fetchPost, type SlackForwarderDeps, SlackWebhookConfigError } from '../notify/slack-forwarder.ts';
import type { Env } from './clients/client-config.ts';
import { lazyClient } from './clients/lazy-client.ts';
import { makeSecretsManagerClient } from './clients/secrets-manager-client.ts';
import type { LambdaDepsBase } from './lambda-deps.ts';
import { makeLambdaLogger } from './lambda-logger.ts';

export interface SlackForwarderLambdaDeps extends LambdaDepsBase {
  readonly forward: SlackForwarderDeps;
}

/** functions/slack-forwarder at cold start: owners from the config, the webhook URL from its secret. */
export function makeSlackForwarderDeps(
  env: Env,
  config: Config = embeddedConfig(),
): SlackForwarderLambdaDeps {
  const secretId = config.notifications?.slack?.webhookSecretId;
  if (!secretId) throw new SlackWebhookConfigError('notifications.slack.webhookSecretId is not configured');
  const log = makeLambdaLogger();
  return {
    config,
    log,
    forward: {
      owners: config.owners,
      webhooks: makeSecretsWebhookSource(
        lazyClient(() => makeSecretsManagerClient(env)),
        secretId,
        {
          allowedHosts: config.notifications?.slack?.allowedHosts,
        },
      ),
      post: fetchPost(10_000),
      log: log.port,
    },
  };
}
