import type { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSnsNotifier } from '../../lib/adapters/sns/sns-notifier.ts';
import { loadConfig, parseConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import { runRiskEvaluation } from '../../lib/risks/run-risk-evaluation.ts';
import { silentLogger } from '../../lib/shared/logger.ts';
import { makeRiskDeps } from '../../lib/wiring/make-risk-deps.ts';
import { withoutReviews } from '../support/config-fixture.ts';
import { drain, type SnsEnvelope, subscribedQueue } from '../support/sns-queues.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { remediationInput } from './fixtures.ts';

/** The real SNS client; publishes of the given notification kind are rejected while `failing` says so. */
function snsFailingKind(real: SNSClient, kind: string, failing: { times: number }): SNSClient {
  const wrapper = Object.create(real) as SNSClient;
  wrapper.send = (async (command: Parameters<SNSClient['send']>[0]) => {
    const attributes = (command.input as { MessageAttributes?: Record<string, { StringValue?: string }> })
      .MessageAttributes;
    if (attributes?.kind?.StringValue === kind && failing.times > 0) {
      failing.times -= 1;
      throw new Error(`injected: SNS rejected the ${kind}`);
    }
    return real.send(command);
  }) as SNSClient['send'];
  return wrapper;
}

describe('reminder digests through the outbox', () => {
  let env: TestEnvironment;
  let config: Config;
  let inbox: string;
  let seen: SnsEnvelope[] = [];

  beforeAll(async () => {
    env = await startTestEnvironment({ postgres: false });
    inbox = await subscribedQueue(env, 'digest-outbox-inbox');
    const example = withoutReviews(await loadConfig('soc2-evidence.yaml'));
    config = parseConfig({
      owners: example.owners,
      controls: example.controls,
      targets: example.targets,
      riskRegister: {
        settings: { escalationOwner: 'founder', escalateAfter: 1 },
        remediations: [remediationInput({ id: 'X1', owner: 'devops', targetDate: '2026-01-01' })],
      },
    });
  });
  afterAll(async () => env?.stop());

  const depsWith = (failing: { times: number }) => {
    const deps = makeRiskDeps({ config, resources: env.resources, clients: env.clients, log: silentLogger });
    return {
      ...deps,
      notifier: makeSnsNotifier(
        snsFailingKind(env.clients.sns, 'escalation-digest', failing),
        env.resources.notificationsTopicArn,
      ),
    };
  };
  const received = async (kind: string) => {
    seen = [...seen, ...(await drain(env, inbox))];
    return seen.filter((envelope) => envelope.MessageAttributes.kind?.Value === kind);
  };

  it('sends the escalation digest exactly once when its publish failed and the run was retried', async () => {
    const first = await runRiskEvaluation(new Date('2026-11-16T06:00:00Z'), depsWith({ times: 0 }));
    expect(first.digests.map((d) => d.kind)).toEqual(['risk-digest']);

    // A week later the owner's second reminder goes out, and its escalation fails at SNS.
    const failing = { times: 1 };
    const escalating = await runRiskEvaluation(new Date('2026-11-23T06:00:00Z'), depsWith(failing));
    expect(escalating.digests.map((d) => d.kind)).toEqual(['risk-digest']);
    expect(escalating.failures).toEqual([
      { recipient: 'founder', kind: 'escalation-digest', error: expect.stringContaining('injected') },
    ]);
    expect(await received('escalation-digest')).toHaveLength(0);

    // Lambda retries the same scheduled event: the owner's reminder is already sent, the escalation
    // is still pending in the outbox, and is delivered now.
    const retry = await runRiskEvaluation(new Date('2026-11-23T06:00:00Z'), depsWith({ times: 0 }));
    expect(retry.failures).toEqual([]);
    expect(retry.digests).toEqual([]);
    expect(retry.redelivered.map((d) => `${d.kind}:${d.recipient}`)).toEqual(['escalation-digest:founder']);
    expect(await received('escalation-digest')).toHaveLength(1);
    expect(await received('risk-digest')).toHaveLength(2);

    // And never again within the interval, however often the event is retried.
    await runRiskEvaluation(new Date('2026-11-23T06:00:00Z'), depsWith({ times: 0 }));
    await runRiskEvaluation(new Date('2026-11-24T06:00:00Z'), depsWith({ times: 0 }));
    expect(await received('escalation-digest')).toHaveLength(1);
    expect(await received('risk-digest')).toHaveLength(2);
    const history = await depsWith({ times: 0 }).ledger.digestsFor('founder');
    expect(history.filter((d) => d.kind === 'escalation-digest')).toHaveLength(1);
  });
});
