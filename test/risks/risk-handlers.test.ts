import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerFilterPolicy } from '../../lib/notify/filter-policies.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { drain, subscribedQueue } from '../support/sns-queues.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { remediationInput, riskInput } from './fixtures.ts';

const context = {
  functionName: 'test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/**
 * The two Lambda entry points as bundled: config through the `__SOC2_CONFIG__` global (esbuild
 * `define`), resource names through the environment the stack sets.
 */
describe('risk evaluator and Slack forwarder handlers', () => {
  let env: TestEnvironment;
  let server: Server;
  const posts: { path: string; body: { text: string } }[] = [];
  const saved = { ...process.env };
  const secrets = mockClient(SecretsManagerClient);

  beforeAll(async () => {
    env = await startTestEnvironment({ postgres: false });
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        posts.push({ path: request.url ?? '', body: JSON.parse(body) as { text: string } });
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    secrets
      .on(GetSecretValueCommand, { SecretId: 'soc2-evidence/slack' })
      .resolves({ SecretString: JSON.stringify({ '#security': `http://127.0.0.1:${port}/hooks/security` }) });

    (globalThis as Record<string, unknown>).__SOC2_CONFIG__ = {
      owners: [
        { id: 'security', name: 'Security', email: 'security@example.com', slackChannel: '#security' },
        { id: 'founder', name: 'Founder', email: 'founder@example.com' },
      ],
      targets: [{ name: 'app', connection: { env: 'APP_URL' } }],
      controls: [
        {
          id: 'audit-log',
          title: 'Audit log complete',
          criteria: ['CC7.2'],
          cadence: 'monthly',
          owner: 'security',
          test: {
            type: 'log-completeness',
            target: 'app',
            schema: 'public',
            table: 'audit_log',
            maxSilence: 'PT1H',
          },
        },
      ],
      // The fake Slack listens on loopback over HTTP: allowed only because it is allow-listed.
      notifications: { slack: { webhookSecretId: 'soc2-evidence/slack', allowedHosts: ['127.0.0.1'] } },
      riskRegister: {
        settings: { escalationOwner: 'founder' },
        risks: [riskInput({ id: 'H1', owner: 'founder', likelihood: 4, impact: 4, mitigation: undefined })],
        remediations: [remediationInput({ id: 'H2', owner: 'security', targetDate: '2026-01-01' })],
      },
    };
    Object.assign(process.env, env.services.awsEnv, {
      [ENV.resultsTable]: env.resources.resultsTable,
      [ENV.notificationsTopicArn]: env.resources.notificationsTopicArn,
    });
  });

  afterAll(async () => {
    process.env = saved;
    delete (globalThis as Record<string, unknown>).__SOC2_CONFIG__;
    secrets.restore();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await env?.stop();
  });

  it('evaluates on schedule and its digest reaches Slack through the forwarder', async () => {
    const inbox = await subscribedQueue(env, 'handler-security', ownerFilterPolicy('security'));
    const { handler: evaluate } = await import('../../functions/risk-evaluator/handler.ts');
    const result = await evaluate({ asOf: '2026-11-23T06:00:00Z' }, context);
    expect(result).toEqual({ date: '2026-11-23', findings: 2, digests: 2 });
    // Same scheduled event retried: nothing new.
    expect(await evaluate({ asOf: '2026-11-23T06:00:00Z' }, context)).toEqual({
      date: '2026-11-23',
      findings: 2,
      digests: 0,
    });

    const [message, ...rest] = await drain(env, inbox);
    expect(rest).toEqual([]);
    expect(message?.MessageAttributes.kind?.Value).toBe('risk-digest');

    const { handler: forward } = await import('../../functions/slack-forwarder/handler.ts');
    const event = {
      Records: [{ EventSource: 'aws:sns', EventVersion: '1.0', EventSubscriptionArn: 'arn', Sns: message }],
    } as unknown as SNSEvent;
    await forward(event, context);
    expect(posts.map((p) => [p.path, p.body.text])).toEqual([
      ['/hooks/security', '[SOC 2] Risk register: 1 item needs your attention (2026-11-23)'],
    ]);
  });

  it('rejects a malformed schedule event', async () => {
    const { handler: evaluate } = await import('../../functions/risk-evaluator/handler.ts');
    await expect(evaluate({ asOf: 'tomorrow' }, context)).rejects.toThrow(/malformed evaluation event/);
  });
});
