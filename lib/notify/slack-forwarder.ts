import type { Logger } from '../shared/logger.ts';
import { DEFAULT_WEBHOOK_HOSTS, webhookUrlProblem } from './notifications-schema.ts';
import { type IncomingNotification, type SlackPayload, slackPayloadFor } from './slack-blocks.ts';

/** The part of an SNS message (Lambda's `record.Sns`, or the SNS->SQS envelope) the forwarder reads. */
export interface SnsMessageLike {
  readonly MessageId?: string;
  readonly Subject?: string | null;
  readonly Message: string;
  readonly MessageAttributes?: Readonly<Record<string, { readonly Type?: string; readonly Value?: string }>>;
}

/** The message cannot be forwarded as sent; retrying will not help, but it must not vanish either. */
export class MalformedNotificationError extends Error {
  override name = 'MalformedNotificationError';
}

/** The webhook secret is unusable or has no URL for the channel. */
export class SlackWebhookConfigError extends Error {
  override name = 'SlackWebhookConfigError';
}

/** Slack answered with a non-2xx status (or did not answer); thrown so Lambda retries, then the DLQ. */
export class SlackDeliveryError extends Error {
  override name = 'SlackDeliveryError';
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function parseSnsMessage(message: SnsMessageLike): IncomingNotification {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.Value;
  const owner = attribute('owner');
  const kind = attribute('kind');
  if (!owner || !kind) {
    throw new MalformedNotificationError(
      `SNS message ${message.MessageId ?? '?'} has no owner/kind attributes`,
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(attribute('payload') ?? '{}');
  } catch (error) {
    throw new MalformedNotificationError(
      `SNS message ${message.MessageId ?? '?'} has a payload that is not JSON`,
      {
        cause: error,
      },
    );
  }
  return { kind, owner, subject: message.Subject ?? '', text: message.Message, payload };
}

/** Channel -> webhook URL, from the secret's value. */
export type WebhookLookup = (channel: string) => string;

function checkUrl(value: unknown, where: string, allowedHosts: readonly string[]): string {
  if (typeof value !== 'string') throw new SlackWebhookConfigError(`${where}: expected a webhook URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new SlackWebhookConfigError(`${where}: not a URL`, { cause: error });
  }
  const problem = webhookUrlProblem(url, allowedHosts);
  if (problem) throw new SlackWebhookConfigError(`${where}: ${problem}`);
  return value;
}

/**
 * The secret holds either one incoming-webhook URL (every channel posts there: a Slack webhook is
 * bound to one channel) or a JSON map of channel to URL, `{"#security": "https://hooks.slack.com/…",
 * "default": "…"}`; keys may omit the `#`. URLs are never logged: they are credentials.
 */
export function parseWebhookSecret(
  secret: string,
  allowedHosts: readonly string[] = DEFAULT_WEBHOOK_HOSTS,
): WebhookLookup {
  const trimmed = secret.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) {
    const url = checkUrl(trimmed, 'webhook secret', allowedHosts);
    return () => url;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    throw new SlackWebhookConfigError('webhook secret: neither a URL nor valid JSON', { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SlackWebhookConfigError('webhook secret: expected a JSON object of channel to URL');
  }
  const map = new Map<string, string>();
  for (const [key, value] of Object.entries(parsed)) {
    map.set(
      key === 'default' ? key : key.replace(/^#?/, '#'),
      checkUrl(value, `webhook secret key "${key}"`, allowedHosts),
    );
  }
  return (channel) => {
    const url = map.get(channel) ?? map.get('default');
    if (!url) {
      throw new SlackWebhookConfigError(
        `webhook secret has no URL for ${channel} (keys: ${[...map.keys()].join(', ') || 'none'})`,
      );
    }
    return url;
  };
}

/** Resolves the lookup, e.g. from Secrets Manager with a cache (see secrets-webhook-resolver.ts). */
export type WebhookSource = () => Promise<WebhookLookup>;

/** POSTs JSON; resolves with the status and body, whatever the status. */
export type HttpPost = (
  url: string,
  body: string,
) => Promise<{ readonly status: number; readonly body: string }>;

export interface SlackForwarderDeps {
  readonly owners: readonly { readonly id: string; readonly slackChannel?: string | undefined }[];
  readonly webhooks: WebhookSource;
  readonly post: HttpPost;
  readonly log: Logger;
}

export type ForwardResult =
  | { readonly outcome: 'posted'; readonly channel: string; readonly payload: SlackPayload }
  | { readonly outcome: 'skipped'; readonly reason: string };

/**
 * One SNS message -> the owner's Slack channel. Owners without a channel are skipped (their email
 * subscription covers them). A non-2xx answer throws, so the Lambda's async retries and then its
 * DLQ take over; nothing is dropped silently.
 */
export async function forwardToSlack(
  message: SnsMessageLike,
  deps: SlackForwarderDeps,
): Promise<ForwardResult> {
  const note = parseSnsMessage(message);
  const owner = deps.owners.find((candidate) => candidate.id === note.owner);
  if (!owner?.slackChannel) {
    const reason = owner ? `owner ${note.owner} has no Slack channel` : `unknown owner ${note.owner}`;
    deps.log.info('not forwarded to Slack', { messageId: message.MessageId, reason });
    return { outcome: 'skipped', reason };
  }
  const channel = owner.slackChannel;
  const url = (await deps.webhooks())(channel);
  const payload = slackPayloadFor(note);
  let response: { status: number; body: string };
  try {
    response = await deps.post(url, JSON.stringify(payload));
  } catch (error) {
    throw new SlackDeliveryError(
      `could not reach Slack for ${channel}: ${error instanceof Error ? error.message : String(error)}`,
      undefined,
      {
        cause: error,
      },
    );
  }
  if (response.status < 200 || response.status > 299) {
    throw new SlackDeliveryError(
      `Slack answered ${response.status} for ${channel}: ${response.body.slice(0, 200)}`,
      response.status,
    );
  }
  deps.log.info('forwarded to Slack', {
    messageId: message.MessageId,
    channel,
    kind: note.kind,
    owner: note.owner,
  });
  return { outcome: 'posted', channel, payload };
}

/** `fetch` POST with a timeout, so a hung Slack cannot use up the Lambda's time. */
export function fetchPost(timeoutMs = 10_000): HttpPost {
  return async (url, body) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, body: await response.text() };
  };
}
