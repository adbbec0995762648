import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  parseWebhookSecret,
  SlackWebhookConfigError,
  type WebhookLookup,
  type WebhookSource,
} from '../../notify/slack-forwarder.ts';

export interface SecretsWebhookOptions {
  /** Re-read the secret after this long, so a rotated webhook URL is picked up. @default 300000 */
  readonly cacheMs?: number;
  readonly clock?: () => number;
  /** Hosts the webhook URLs may point at. @default ['hooks.slack.com'] */
  readonly allowedHosts?: readonly string[];
}

/** Reads the webhook secret from Secrets Manager once per `cacheMs` (warm Lambdas reuse it). */
export function makeSecretsWebhookSource(
  client: SecretsManagerClient,
  secretId: string,
  options: SecretsWebhookOptions = {},
): WebhookSource {
  const cacheMs = options.cacheMs ?? 300_000;
  const clock = options.clock ?? Date.now;
  let cached: { lookup: WebhookLookup; at: number } | undefined;
  return async () => {
    if (cached && clock() - cached.at < cacheMs) return cached.lookup;
    const secret = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (typeof secret.SecretString !== 'string') {
      throw new SlackWebhookConfigError(`secret ${secretId} has no string value`);
    }
    cached = { lookup: parseWebhookSecret(secret.SecretString, options.allowedHosts), at: clock() };
    return cached.lookup;
  };
}
