import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context, SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler as makeEvaluator } from '../../functions/risk-evaluator/make-handler.ts';
import { makeHandler as makeForwarder } from '../../functions/slack-forwarder/make-handler.ts';
import { parseConfig } from '../../lib/config/parse-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import { ownerFilterPolicy } from '../../lib/notify/filter-policies.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { makeRiskEvaluatorDeps } from '../../lib/wiring/make-risk-evaluator-deps.ts';
import { makeSlackForwarderDeps } from '../../lib/wiring/make-slack-forwarder-deps.ts';
import { type KmsSecretsStandIn, startKmsSecretsStandIn } from '../support/kms-secrets-stand-in.ts';
import { drain, subscribedQueue } from '../support/sns-queues.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { remediationInput, riskInput } from './fixtures.ts';

const context = {
  functionName: 'test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/**
 * The two Lambda handlers built by their deps factories from an environment record aimed at the
 * emulators and the Secrets Manager stand-in, with the config injected (no globals, no process.env).
 */
describe('risk evaluator and Slack forwarder handlers', () => {
  let env: TestEnvironment;
  let server: Server;
  const posts: { path: string; body: { text: string } }[] = [];
  let secrets: KmsSecretsStandIn;
  let lambdaEnv: Record<string, string>;
  let config: Config;

  beforeAll(async () => {
    [env, secrets] = await Promise.all([startTestEnvironment({ postgres: false }), startKmsSecretsStandIn()]);
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
    secrets.putSecret(
      'soc2-evidence/slack',
      JSON.stringify({ '#security': `http://127.0.0.1:${port}/hooks/security` }),
    );

    config = parseConfig(
      {
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
      },
      'test',
    );
    lambdaEnv = {
      ...env.services.awsEnv,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      [ENV.resultsTable]: env.resources.resultsTable,
      [ENV.notificationsTopicArn]: env.resources.notificationsTopicArn,
    };
  });

  afterAll(async () => {
    await secrets?.stop();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await env?.stop();
  });

  it('evaluates on schedule and its digest reaches Slack through the forwarder', async () => {
    const inbox = await subscribedQueue(env, 'handler-security', ownerFilterPolicy('security'));
    const evaluate = makeEvaluator(makeRiskEvaluatorDeps(lambdaEnv, config));
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

    const forward = makeForwarder(makeSlackForwarderDeps(lambdaEnv, config));
    const event = {
      Records: [{ EventSource: 'aws:sns', EventVersion: '1.0', EventSubscriptionArn: 'arn', Sns: message }],
    } as unknown as SNSEvent;
    await forward(event, context);
    expect(posts.map((p) => [p.path, p.body.text])).toEqual([
      ['/hooks/security', '[SOC 2] Risk register: 1 item needs your attention (2026-11-23)'],
    ]);
  });

  it('rejects a malformed schedule event', async () => {
    const evaluate = makeEvaluator(makeRiskEvaluatorDeps(lambdaEnv, config));
    await expect(evaluate({ asOf: 'tomorrow' }, context)).rejects.toThrow(/malformed evaluation event/);
  });
});
