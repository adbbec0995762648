import * as z from 'zod';
import { secretIdSchema } from '../shared/identifiers.ts';

/** Hosts Slack serves incoming webhooks from; anything else could receive owners' failure notices. */
export const DEFAULT_WEBHOOK_HOSTS: readonly string[] = ['hooks.slack.com'];

/** How owners are reached beyond email. */
export const notificationsSchema = z.strictObject({
  slack: z
    .strictObject({
      /** Secrets Manager secret holding the incoming-webhook URL(s); never the URL itself. */
      webhookSecretId: secretIdSchema,
      /** Hosts a webhook URL may point at (https:// only). @default ['hooks.slack.com'] */
      allowedHosts: z
        .array(z.string().regex(/^([a-z0-9.-]+|\[::1\])$/, 'expected a host name'))
        .min(1)
        .default([...DEFAULT_WEBHOOK_HOSTS]),
    })
    .optional(),
});

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Why a webhook URL must not be used, or null: only `https://` on an allow-listed host (exact
 * match, no credentials in the URL), so a tampered secret cannot send notices elsewhere. Plain
 * `http://` is accepted only for an allow-listed loopback host (local runs and tests), which no
 * deployed function can reach.
 */
export function webhookUrlProblem(
  url: URL,
  allowedHosts: readonly string[] = DEFAULT_WEBHOOK_HOSTS,
): string | null {
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    return 'expected an https:// webhook URL';
  if (url.username !== '' || url.password !== '') return 'expected no credentials in the webhook URL';
  if (!allowedHosts.includes(url.hostname)) {
    return `webhook host ${url.hostname} is not allowed (allowed: ${allowedHosts.join(', ')})`;
  }
  return null;
}
