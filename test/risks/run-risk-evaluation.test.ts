import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import type { Notifier } from '../../lib/notify/notification.ts';
import type { DigestPayload } from '../../lib/risks/digest-message.ts';
import { type RiskEvaluationDeps, runRiskEvaluation } from '../../lib/risks/run-risk-evaluation.ts';
import { silentLogger } from '../../lib/shared/logger.ts';
import { makeRiskDeps } from '../../lib/wiring/make-risk-deps.ts';
import { withoutReviews } from '../support/config-fixture.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { remediationInput, riskInput } from './fixtures.ts';

let env: TestEnvironment;
let example: Config;

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  example = withoutReviews(await loadConfig('soc2-evidence.yaml'));
});
afterAll(async () => {
  await env?.stop();
});

/** Deps on the emulators; `published` records every notification SNS accepted. */
function depsFor(config: Config, wrap?: (inner: Notifier) => Notifier) {
  const deps = makeRiskDeps({ config, resources: env.resources, clients: env.clients, log: silentLogger });
  const published: { kind: string; owner: string; payload: DigestPayload }[] = [];
  const recording: Notifier = {
    async publish(notification) {
      const id = await deps.notifier.publish(notification);
      published.push({
        kind: notification.kind,
        owner: notification.owner,
        payload: notification.payload as unknown as DigestPayload,
      });
      return id;
    },
  };
  return {
    deps: { ...deps, notifier: wrap ? wrap(recording) : recording } satisfies RiskEvaluationDeps,
    published,
  };
}

const summary = (report: Awaited<ReturnType<typeof runRiskEvaluation>>) =>
  report.digests.map((d) => `${d.kind}:${d.recipient}:${d.itemKeys.length}`).sort();

/** A config of two owners with one overdue item each, ids unique to the test so ledgers do not mix. */
function smallConfig(prefix: string): Config {
  return parseConfig({
    owners: example.owners,
    controls: example.controls,
    targets: example.targets,
    riskRegister: {
      settings: { escalationOwner: 'founder' },
      risks: [riskInput({ id: `${prefix}1`, owner: 'security', lastReviewed: '2026-01-01' })],
      remediations: [remediationInput({ id: `${prefix}2`, owner: 'devops', targetDate: '2026-01-01' })],
    },
  });
}

describe('reminders across repeated daily evaluations of the example register', () => {
  let deps: RiskEvaluationDeps;
  let published: ReturnType<typeof depsFor>['published'];
  beforeAll(() => {
    ({ deps, published } = depsFor(example));
  });
  const run = (iso: string) => runRiskEvaluation(new Date(iso), deps);

  it('sends one digest per owner on the first evaluation', async () => {
    const report = await run('2026-11-23T06:00:00Z');
    expect(summary(report)).toEqual([
      'risk-digest:data-governance:1',
      'risk-digest:devops:1',
      'risk-digest:founder:19',
      'risk-digest:security:1',
    ]);
  });

  it('sends nothing on a second evaluation the same day, nor on a retry of the same scheduled event', async () => {
    expect((await run('2026-11-23T18:00:00Z')).digests).toEqual([]);
    const retry = await run('2026-11-23T06:00:00Z');
    expect(retry.digests).toEqual([]);
    expect(retry.skippedItems).toBe(0); // not even attempted: the ledger says "sent"
    expect(published).toHaveLength(4);
  });

  it('reminds again after the 7-day interval even when the schedule fires a little early', async () => {
    expect((await run('2026-11-29T06:00:00Z')).digests).toEqual([]);
    const report = await run('2026-11-30T05:59:50Z');
    expect(summary(report)).toEqual([
      'risk-digest:data-governance:1',
      'risk-digest:devops:1',
      'risk-digest:founder:19',
      'risk-digest:security:1',
    ]);
    expect(published.at(-1)?.payload.items[0]?.reminderNumber).toBe(2);
  });

  it('escalates to the escalation owner after 3 reminders, in a digest of their own', async () => {
    await run('2026-12-07T06:00:00Z'); // third reminder
    expect((await run('2026-12-08T06:00:00Z')).digests).toEqual([]);
    const fourth = await run('2026-12-14T06:00:00Z');
    expect(summary(fourth)).toEqual([
      'escalation-digest:founder:3',
      'risk-digest:data-governance:1',
      'risk-digest:devops:1',
      'risk-digest:founder:19',
      'risk-digest:security:1',
    ]);
    const escalation = published.find((p) => p.kind === 'escalation-digest');
    expect(escalation?.owner).toBe('founder');
    expect(
      escalation?.payload.items.map((i) => [i.subjectId, i.owner, i.ownerReminders, i.reminderNumber]),
    ).toEqual([
      ['G2', 'devops', 3, 1],
      ['G1', 'security', 3, 1],
      ['G3', 'data-governance', 3, 1],
    ]);
    // The founder's own risks are never escalated to the founder.
    const founderDigest = fourth.digests.find((d) => d.kind === 'risk-digest' && d.recipient === 'founder');
    expect(founderDigest?.escalatedKeys).toEqual([]);
    expect(fourth.digests.find((d) => d.recipient === 'security')?.escalatedKeys).toEqual([
      'G1/remediation-overdue/2025-11-01',
    ]);
    // The escalation repeats with the next reminder, not daily.
    expect((await run('2026-12-15T06:00:00Z')).digests).toEqual([]);
    const fifth = await run('2026-12-21T06:00:00Z');
    expect(summary(fifth)).toContain('escalation-digest:founder:3');
    expect(
      published.filter((p) => p.kind === 'escalation-digest').at(-1)?.payload.items[0]?.reminderNumber,
    ).toBe(2);
  });

  it('keeps the ledger, the digests sent and the register history in DynamoDB', async () => {
    const { clients, resources } = env;
    const { makeDynamoReminderLedger } = await import('../../lib/adapters/dynamodb/dynamodb-reminders.ts');
    const { makeDynamoRiskStore } = await import('../../lib/adapters/dynamodb/dynamodb-risks.ts');
    const ledger = makeDynamoReminderLedger(clients.dynamodb, resources.resultsTable);
    const store = makeDynamoRiskStore(clients.dynamodb, resources.resultsTable);

    const g1 = (await ledger.entriesFor('security')).find(
      (e) => e.itemKey === 'G1/remediation-overdue/2025-11-01',
    );
    expect(g1).toMatchObject({ remindersSent: 5, lastSentAt: '2026-12-21T06:00:00.000Z' });
    expect(g1?.pendingSince).toBeUndefined();
    const sent = await ledger.digestsFor('founder');
    expect(sent.map((d) => `${d.sentAt.slice(0, 10)}:${d.kind}`)).toEqual(
      [
        '2026-12-21:risk-digest',
        '2026-12-21:escalation-digest',
        '2026-12-14:risk-digest',
        '2026-12-14:escalation-digest',
        '2026-12-07:risk-digest',
        '2026-11-30:risk-digest',
        '2026-11-23:risk-digest',
      ]
        .sort()
        .reverse(),
    );

    const r2 = await store.statesOf('risk', 'R2');
    expect(r2.map((s) => s.date)).toEqual([
      '2026-12-21',
      '2026-12-15',
      '2026-12-14',
      '2026-12-08',
      '2026-12-07',
      '2026-11-30',
      '2026-11-29',
      '2026-11-23',
    ]);
    expect(r2[0]).toMatchObject({
      score: 16,
      status: 'mitigated',
      findingKeys: ['R2/review-overdue/2026-05-18'],
    });
    const day = await store.evaluationOn('2026-11-23');
    expect(day.states).toHaveLength(13);
    expect(day.findings.map((f) => f.rule).filter((r) => r === 'remediation-overdue')).toHaveLength(3);
    expect((await store.findingsOf('risk', 'R9', { limit: 2 })).map((f) => f.rule).sort()).toEqual([
      'mitigation-overdue',
      'review-overdue',
    ]);
    expect((await store.evaluations({ limit: 1 }))[0]).toMatchObject({ date: '2026-12-21', findings: 22 });
    // Asset findings are stored under the asset, not mistaken for a remediation item.
    expect(
      (await store.findingsOf('asset', 'webhook-signing-secrets', { limit: 2 })).map((f) => f.rule),
    ).toEqual(expect.arrayContaining(['stride-gap', 'unencrypted-at-rest']));
    expect(await store.findingsOf('remediation', 'webhook-signing-secrets')).toEqual([]);
  });
});

describe('crashes and duplicates', () => {
  it('retries a reminder whose run crashed after claiming it, once the claim is stale', async () => {
    const config = smallConfig('C');
    const { deps } = depsFor(config);
    // A run that claimed C1 for security at 06:00 and died before publishing.
    await deps.ledger.claim({
      recipient: 'security',
      itemKey: 'C1/review-overdue/2026-04-01',
      digestId: 'crashed-run/risk-digest/security',
      now: '2026-11-23T06:00:00.000Z',
      sentBefore: '2026-11-16T07:00:00.000Z',
      staleBefore: '2026-11-23T05:45:00.000Z',
      describe: { subjectId: 'C1', rule: 'review-overdue', owner: 'security' },
    });
    const soon = await runRiskEvaluation(new Date('2026-11-23T06:05:00Z'), deps);
    expect(summary(soon)).toEqual(['risk-digest:devops:1']);
    expect(soon.skippedItems).toBe(0); // planned around: a live claim is not due
    const later = await runRiskEvaluation(new Date('2026-11-23T06:20:00Z'), deps);
    expect(summary(later)).toEqual(['risk-digest:security:1']);
    const entry = (await deps.ledger.entriesFor('security')).find((e) => e.itemKey.startsWith('C1/'));
    expect(entry).toMatchObject({ remindersSent: 1, lastSentAt: '2026-11-23T06:20:00.000Z' });
    expect(entry?.pendingSince).toBeUndefined();
  });

  it('keeps a digest SNS rejected in the outbox, and the retried run delivers it exactly once', async () => {
    const config = smallConfig('F');
    let failOnce = true;
    const { deps, published } = depsFor(config, (inner) => ({
      async publish(notification) {
        if (notification.owner === 'devops' && failOnce) {
          failOnce = false;
          throw new Error('SNS throttled');
        }
        return inner.publish(notification);
      },
    }));
    const first = await runRiskEvaluation(new Date('2026-11-23T06:00:00Z'), deps);
    expect(summary(first)).toEqual(['risk-digest:security:1']);
    expect(first.failures).toEqual([
      { recipient: 'devops', kind: 'risk-digest', error: expect.stringContaining('SNS throttled') },
    ]);
    // Stored with the digest: the item counts as reminded, so no run plans a second digest for it.
    const entry = (await deps.ledger.entriesFor('devops')).find((e) => e.itemKey.startsWith('F2/'));
    expect(entry).toMatchObject({ remindersSent: 1 });
    expect(entry?.pendingSince).toBeUndefined();
    const retry = await runRiskEvaluation(new Date('2026-11-23T06:00:00Z'), deps);
    expect(summary(retry)).toEqual([]);
    expect(retry.redelivered.map((d) => `${d.kind}:${d.recipient}:${d.itemKeys.length}`)).toEqual([
      'risk-digest:devops:1',
    ]);
    const devops = published.filter((p) => p.owner === 'devops' && JSON.stringify(p.payload).includes('F2'));
    expect(devops).toHaveLength(1);
    expect(
      (await deps.ledger.digestsFor('devops')).filter((d) => d.itemKeys.some((k) => k.startsWith('F2/'))),
    ).toHaveLength(1);
  });

  it('sends each reminder once when two runs race (a duplicated schedule event)', async () => {
    const config = smallConfig('D');
    const a = depsFor(config);
    const b = depsFor(config);
    const [one, two] = await Promise.all([
      runRiskEvaluation(new Date('2026-11-23T06:00:00Z'), a.deps),
      runRiskEvaluation(new Date('2026-11-23T06:00:01Z'), b.deps),
    ]);
    const keys = [...(one?.digests ?? []), ...(two?.digests ?? [])].flatMap((d) => d.itemKeys).sort();
    expect(keys).toEqual(['D1/review-overdue/2026-04-01', 'D2/remediation-overdue/2026-01-01']);
    const published = [...a.published, ...b.published].filter((p) =>
      /"D[12]"/.test(JSON.stringify(p.payload)),
    );
    expect(published.length, JSON.stringify(published)).toBeLessThanOrEqual(2);
  });
});
