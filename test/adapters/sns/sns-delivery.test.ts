import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.ts';
import type { Config } from '../../../lib/config/schema.ts';
import { ownerFilterPolicy, slackForwarderFilterPolicy } from '../../../lib/notify/filter-policies.ts';
import { runRiskEvaluation } from '../../../lib/risks/run-risk-evaluation.ts';
import { silentLogger } from '../../../lib/shared/logger.ts';
import { makeRiskDeps } from '../../../lib/wiring/make-risk-deps.ts';
import { withoutReviews } from '../../support/config-fixture.ts';
import { drain, type SnsEnvelope, subscribedQueue } from '../../support/sns-queues.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';

let env: TestEnvironment;
let config: Config;
const queues = new Map<string, string>();

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  config = withoutReviews(await loadConfig('soc2-evidence.yaml'));
  for (const owner of config.owners)
    queues.set(owner.id, await subscribedQueue(env, `inbox-${owner.id}`, ownerFilterPolicy(owner.id)));
  queues.set(
    'slack',
    await subscribedQueue(env, 'slack-forwarder', slackForwarderFilterPolicy(config.owners)),
  );
});

afterAll(async () => {
  await env?.stop();
});

describe('digests through SNS with the deployed filter policies', () => {
  it('gives each owner only their own digest, one per evaluation, readable as email', async () => {
    const deps = makeRiskDeps({ config, resources: env.resources, clients: env.clients, log: silentLogger });
    const report = await runRiskEvaluation(new Date('2026-11-23T06:00:00Z'), deps);
    expect(report.digests.map((d) => `${d.kind}:${d.recipient}:${d.itemKeys.length}`).sort()).toEqual([
      'risk-digest:data-governance:1',
      'risk-digest:devops:1',
      'risk-digest:founder:19',
      'risk-digest:security:1',
    ]);

    const inbox = new Map<string, SnsEnvelope[]>();
    for (const [id, url] of queues) inbox.set(id, await drain(env, url));
    expect(inbox.get('founder')).toHaveLength(1);
    expect(inbox.get('security')).toHaveLength(1);
    expect(inbox.get('devops')).toHaveLength(1);
    expect(inbox.get('data-governance')).toHaveLength(1);
    expect(inbox.get('sre')).toEqual([]);
    for (const [id, messages] of inbox) {
      if (id === 'slack') continue;
      for (const message of messages) expect(message.MessageAttributes.owner?.Value).toBe(id);
    }
    // Only owners with a Slack channel (security, devops) reach the forwarder.
    expect(
      inbox
        .get('slack')
        ?.map((m) => m.MessageAttributes.owner?.Value)
        .sort(),
    ).toEqual(['devops', 'security']);

    const founder = inbox.get('founder')?.[0];
    expect(founder?.Subject).toBe('[SOC 2] Risk register: 19 items need your attention (2026-11-23)');
    expect(founder?.MessageAttributes.kind?.Value).toBe('risk-digest');
    const text = founder?.Message ?? '';
    expect(text.startsWith('Hello Founder,\n')).toBe(true);
    expect(text).toContain('11. R10 Algorithmic bias in cost attribution');
    expect(text.replace(/\s+/g, ' ')).toContain(
      'R9 Outage of upstream (MongoDB, OpenAI, Stripe): mitigation overdue (176 days)',
    );
    expect(text).not.toMatch(/[{}"]\s*:/); // prose, not JSON
    expect(Math.max(...text.split('\n').map((line) => line.length))).toBeLessThanOrEqual(76);

    const security = inbox.get('security')?.[0];
    expect(security?.Message).toContain('Remediation G1 for the gap "Manual Keycloak password rotation"');
    expect(JSON.parse(security?.MessageAttributes.payload?.Value ?? '{}')).toMatchObject({
      kind: 'risk-digest',
      recipient: 'security',
      items: [{ key: 'G1/remediation-overdue/2025-11-01', reminderNumber: 1, escalated: false }],
    });
  });

  it('sends nothing new on a second evaluation the same day', async () => {
    const deps = makeRiskDeps({ config, resources: env.resources, clients: env.clients, log: silentLogger });
    const report = await runRiskEvaluation(new Date('2026-11-23T18:00:00Z'), deps);
    expect(report.evaluation.findings).toHaveLength(22);
    expect(report.digests).toEqual([]);
    for (const url of queues.values()) expect(await drain(env, url)).toEqual([]);
  });
});
