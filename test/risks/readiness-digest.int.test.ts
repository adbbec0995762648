import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHandler as makeEvaluator } from '../../functions/risk-evaluator/make-handler.ts';
import { makeDynamoResultsStore } from '../../lib/adapters/dynamodb/dynamodb-results.ts';
import { loadConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import { ownerFilterPolicy } from '../../lib/notify/filter-policies.ts';
import type { DigestPayload } from '../../lib/risks/digest-message.ts';
import { periodFromKey } from '../../lib/shared/period.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { makeRiskEvaluatorDeps } from '../../lib/wiring/make-risk-evaluator-deps.ts';
import { withoutReviews } from '../support/config-fixture.ts';
import { drain, subscribedQueue } from '../support/sns-queues.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';

const context = {
  functionName: 'test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

let env: TestEnvironment;
let config: Config;
let lambdaEnv: Record<string, string>;

/** Records a verdict in the results table the way the worker does (attempt, then verdict). */
async function recordVerdict(controlId: string, periodKey: string, verdict: 'pass' | 'fail') {
  const control = config.controls.find((c) => c.id === controlId);
  if (!control) throw new Error(`no control ${controlId}`);
  const period = periodFromKey(control.cadence, periodKey, config.timeZone);
  const finishedAt = new Date(period.end.getTime() + 3_600_000).toISOString();
  await makeDynamoResultsStore(env.clients.dynamodb, env.resources.resultsTable).recordAttempt({
    controlId,
    cadence: control.cadence,
    periodKey,
    periodStart: period.start.toISOString(),
    periodEnd: period.end.toISOString(),
    verdict,
    reasons: verdict === 'fail' ? ['2 dormant accounts still enabled'] : [],
    warnings: [],
    figures: {},
    runId: `run-${periodKey}`,
    startedAt: finishedAt,
    finishedAt,
    evidenceKey: `evidence/${controlId}/${control.cadence}/${periodKey}/run/result.json`,
    evidenceSha256: '0'.repeat(64),
    manifestKey: `evidence/${controlId}/${control.cadence}/${periodKey}/run/manifest.json`,
    manifestSha256: '0'.repeat(64),
  });
}

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  config = withoutReviews(await loadConfig('soc2-evidence.yaml'));
  lambdaEnv = {
    ...env.services.awsEnv,
    [ENV.resultsTable]: env.resources.resultsTable,
    [ENV.notificationsTopicArn]: env.resources.notificationsTopicArn,
  };
  // Access reviews: 2026-Q2 failed, the other quarters passed; the rest of the checklist has no verdict.
  for (const [quarter, verdict] of [
    ['2025-Q4', 'pass'],
    ['2026-Q1', 'pass'],
    ['2026-Q2', 'fail'],
    ['2026-Q3', 'pass'],
  ] as const)
    await recordVerdict('access-review', quarter, verdict);
});

afterAll(async () => {
  await env?.stop();
});

describe('readiness items in the risk evaluator Lambda digests', () => {
  it("puts a not-ready checklist item in its owner's digest, read from the results table, once per interval", async () => {
    const owner = config.controls.find((c) => c.id === 'access-review')?.owner ?? '';
    const inbox = await subscribedQueue(env, 'readiness-owner', ownerFilterPolicy(owner));
    const evaluate = makeEvaluator(makeRiskEvaluatorDeps(lambdaEnv, config));
    await evaluate({ asOf: '2026-11-23T06:00:00Z' }, context);

    const messages = await drain(env, inbox);
    expect(messages).toHaveLength(1);
    const text = (messages[0]?.Message ?? '').replace(/\s+/g, ' ');
    expect(text).toMatch(
      /access-reviews Access reviews completed: pre-audit checklist item not ready \(access-review, 2026-Q2\)/,
    );
    expect(text).toMatch(
      /Pre-audit checklist item "Access reviews completed" is not ready: 3 of 4 quarterly periods have a passing verdict\. It is decided by access-review; it clears once their verdicts do\./,
    );
    expect(text).toMatch(/an item leaves the digest once `soc2-evidence readiness` shows it ready/);
    const payload = JSON.parse(messages[0]?.MessageAttributes.payload?.Value ?? '{}') as DigestPayload;
    const item = payload.items.find((i) => i.subjectKind === 'readiness');
    expect(item).toMatchObject({
      key: `readiness/access-reviews/${owner}`,
      rule: 'readiness-not-ready',
      subjectId: 'access-reviews',
      owner,
      controlId: 'access-review',
      periodKey: '2026-Q2',
      verdict: 'fail',
    });
    // Only the item the evidence says is not ready: items without verdicts (unknown) are not reminded.
    expect(payload.items.filter((i) => i.subjectKind === 'readiness').map((i) => i.subjectId)).toEqual([
      'access-reviews',
    ]);

    // The retried schedule event, and the next day: within the reminder interval, nothing again.
    await evaluate({ asOf: '2026-11-23T06:00:00Z' }, context);
    await evaluate({ asOf: '2026-11-24T06:00:00Z' }, context);
    expect(await drain(env, inbox)).toEqual([]);
    // A week later it is still not ready, so it is reminded again.
    await evaluate({ asOf: '2026-11-30T06:00:00Z' }, context);
    const again = await drain(env, inbox);
    expect(again.map((m) => m.Message.replace(/\s+/g, ' ')).join('\n')).toMatch(
      /Access reviews completed: pre-audit checklist item not ready/,
    );
  });
});
