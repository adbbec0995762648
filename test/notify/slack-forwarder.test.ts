import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeSecretsWebhookSource } from '../../lib/adapters/secrets-manager/secrets-webhook-resolver.ts';
import { loadConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import { slackForwarderFilterPolicy } from '../../lib/notify/filter-policies.ts';
import type { SlackBlock } from '../../lib/notify/slack-blocks.ts';
import {
  fetchPost,
  forwardToSlack,
  MalformedNotificationError,
  parseWebhookSecret,
  SlackDeliveryError,
  type SlackForwarderDeps,
  SlackWebhookConfigError,
} from '../../lib/notify/slack-forwarder.ts';
import { runRiskEvaluation } from '../../lib/risks/run-risk-evaluation.ts';
import { silentLogger } from '../../lib/shared/logger.ts';
import { makeRiskDeps } from '../../lib/wiring/make-risk-deps.ts';
import { withoutReviews } from '../support/config-fixture.ts';
import { drain, type SnsEnvelope, subscribedQueue } from '../support/sns-queues.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

/** A stand-in for Slack's incoming webhooks: records each POST, answers with `reply`. */
interface FakeSlack {
  readonly url: (path: string) => string;
  readonly received: { path: string; contentType: string | undefined; body: unknown }[];
  reply: { status: number; body: string };
  close(): Promise<void>;
}

async function startFakeSlack(): Promise<FakeSlack> {
  const received: FakeSlack['received'] = [];
  const fake = { received, reply: { status: 200, body: 'ok' } } as FakeSlack;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      response.writeHead(fake.reply.status, { 'content-type': 'text/plain' }).end(fake.reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

let env: TestEnvironment;
let slack: FakeSlack;
let config: Config;
let messages: SnsEnvelope[];
const secrets = mockClient(SecretsManagerClient);

beforeAll(async () => {
  [env, slack, config] = await Promise.all([
    startTestEnvironment({ postgres: false }),
    startFakeSlack(),
    loadConfig('soc2-evidence.yaml').then(withoutReviews),
  ]);
  // Real digests, through SNS and the forwarder's filter policy, as the Lambda would receive them.
  const queue = await subscribedQueue(env, 'slack-forwarder', slackForwarderFilterPolicy(config.owners));
  const deps = makeRiskDeps({ config, resources: env.resources, clients: env.clients, log: silentLogger });
  await runRiskEvaluation(new Date('2026-11-23T06:00:00Z'), deps);
  messages = await drain(env, queue);
});

afterAll(async () => {
  await Promise.all([env?.stop(), slack?.close()]);
});

beforeEach(() => {
  secrets.reset();
  slack.received.length = 0;
  slack.reply = { status: 200, body: 'ok' };
});
afterEach(() => secrets.reset());

function forwarderDeps(secretString: string): SlackForwarderDeps {
  secrets
    .on(GetSecretValueCommand, { SecretId: 'soc2-evidence/slack' })
    .resolves({ SecretString: secretString });
  return {
    owners: config.owners,
    webhooks: makeSecretsWebhookSource(
      new SecretsManagerClient({ region: 'us-east-1' }),
      'soc2-evidence/slack',
      // The fake Slack listens on loopback over plain HTTP: allowed only because it is allow-listed.
      { allowedHosts: ['hooks.slack.com', '127.0.0.1'] },
    ),
    post: fetchPost(2_000),
    log: silentLogger,
  };
}

const messageFor = (owner: string) => {
  const found = messages.find((m) => m.MessageAttributes.owner?.Value === owner);
  if (!found) throw new Error(`no message for ${owner}`);
  return found;
};

describe('Slack forwarder', () => {
  it("posts the owner's digest as Block Kit to the webhook of the owner's channel", async () => {
    const deps = forwarderDeps(
      JSON.stringify({ '#security': slack.url('/hooks/security'), devops: slack.url('/hooks/devops') }),
    );
    for (const message of messages) await forwardToSlack(message, deps);

    expect(slack.received.map((r) => r.path).sort()).toEqual(['/hooks/devops', '/hooks/security']);
    const security = slack.received.find((r) => r.path === '/hooks/security');
    expect(security?.contentType).toMatch(/^application\/json/);
    const body = security?.body as { text: string; blocks: SlackBlock[] };
    expect(body.text).toBe('[SOC 2] Risk register: 1 item needs your attention (2026-11-23)');
    expect(body.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Risk register: 1 item needs attention', emoji: true },
    });
    expect(body.blocks[1]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Evaluation of 2026-11-23 (UTC) · for Security team' }],
    });
    expect(body.blocks[2]).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text:
          ':large_orange_circle: *G1 Manual Keycloak password rotation*: remediation overdue (387 days)\n' +
          'Remediation G1 for the gap "Manual Keycloak password rotation" (Automate via API) was due on 2025-11-01 ' +
          'and is 387 days overdue; it is still open.\n_Reminder 1_',
      },
    });
    expect(body.blocks.at(-2)).toEqual({ type: 'divider' });
    expect(body.blocks.length).toBeLessThanOrEqual(50);
    // The secret is read once and cached across messages.
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('uses a single webhook URL for every channel when the secret holds just a URL', async () => {
    const deps = forwarderDeps(slack.url('/hooks/only'));
    const result = await forwardToSlack(messageFor('devops'), deps);
    expect(result).toMatchObject({ outcome: 'posted', channel: '#devops' });
    expect(slack.received.map((r) => r.path)).toEqual(['/hooks/only']);
  });

  it.each([
    { status: 500, body: 'internal_error' },
    { status: 404, body: 'no_service' },
    { status: 429, body: 'rate_limited' },
  ])('throws on a $status from Slack so Lambda retries and then dead-letters', async ({ status, body }) => {
    slack.reply = { status, body };
    const deps = forwarderDeps(slack.url('/hooks/only'));
    const error = await forwardToSlack(messageFor('security'), deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackDeliveryError);
    expect((error as SlackDeliveryError).status).toBe(status);
    expect((error as Error).message).toBe(`Slack answered ${status} for #security: ${body}`);
  });

  it('throws when Slack cannot be reached at all', async () => {
    const deps = forwarderDeps('http://127.0.0.1:1/hooks/closed');
    await expect(forwardToSlack(messageFor('security'), deps)).rejects.toThrow(
      /could not reach Slack for #security/,
    );
  });

  it('throws a config error when the secret has no URL for the channel', async () => {
    const deps = forwarderDeps(JSON.stringify({ '#elsewhere': slack.url('/hooks/x') }));
    await expect(forwardToSlack(messageFor('security'), deps)).rejects.toThrow(SlackWebhookConfigError);
    expect(slack.received).toEqual([]);
  });

  it('skips owners without a Slack channel without calling Slack or Secrets Manager', async () => {
    const deps = forwarderDeps(slack.url('/hooks/only'));
    const founderDigest = {
      ...messageFor('security'),
      MessageAttributes: {
        ...messageFor('security').MessageAttributes,
        owner: { Type: 'String', Value: 'founder' },
      },
    };
    expect(await forwardToSlack(founderDigest, deps)).toEqual({
      outcome: 'skipped',
      reason: 'owner founder has no Slack channel',
    });
    expect(slack.received).toEqual([]);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('rejects a message without routing attributes', async () => {
    const deps = forwarderDeps(slack.url('/hooks/only'));
    await expect(forwardToSlack({ Message: 'hi', MessageAttributes: {} }, deps)).rejects.toThrow(
      MalformedNotificationError,
    );
  });
});

describe('webhook secret', () => {
  it.each([
    { secret: 'not a url', error: /webhook secret: not a URL/ },
    { secret: 'ftp://hooks.example.com/x', error: /expected an https:\/\/ webhook URL/ },
    { secret: '{"#security": 42}', error: /key "#security": expected a webhook URL string/ },
    { secret: '[1]', error: /expected a JSON object/ },
    { secret: 'http://hooks.slack.com/services/x', error: /expected an https:\/\/ webhook URL/ },
    {
      secret: 'https://hooks.slack.com.evil.example/x',
      error: /host hooks\.slack\.com\.evil\.example is not allowed/,
    },
    { secret: 'https://attacker.example/services/x', error: /host attacker\.example is not allowed/ },
    { secret: 'https://u:p@hooks.slack.com/x', error: /no credentials/ },
    { secret: '{"default": "https://evil.example/x"}', error: /key "default": webhook host evil\.example/ },
    { secret: 'http://127.0.0.1:9/x', error: /host 127\.0\.0\.1 is not allowed/ },
    { secret: '{oops', error: /neither a URL nor valid JSON/ },
  ])('rejects $secret', ({ secret, error }) => {
    expect(() => parseWebhookSecret(secret)).toThrow(error);
  });

  it('falls back to "default" for channels without their own URL', () => {
    const lookup = parseWebhookSecret(
      '{"security": "https://hooks.slack.com/a", "default": "https://hooks.slack.com/b"}',
    );
    expect(lookup('#security')).toBe('https://hooks.slack.com/a');
    expect(lookup('#devops')).toBe('https://hooks.slack.com/b');
  });
});
