import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { makeDynamoResultsStore } from '../../../lib/adapters/dynamodb/dynamodb-results.ts';
import type { ControlConfig } from '../../../lib/config/schema.ts';
import type { Verdict } from '../../../lib/controls/outcome.ts';
import type { ControlPorts } from '../../../lib/controls/ports.ts';
import { makeVerdictHistory } from '../../../lib/controls/verdict-history.ts';
import type { ResultsStore } from '../../../lib/runs/results-store.ts';
import { type Cadence, periodFromKey } from '../../../lib/shared/period.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { periodAttempt, runTest } from '../control-harness.ts';
import { describeMatrix } from './cell-test.ts';
import { scheduleHealthMatrix } from './cells/schedule-health.ts';

/** Each cell watches controls of its own (ids `m-<cell>`), added 2026-08-01 unless said otherwise. */
const AS_OF = '2026-11-24T06:00:00Z';
let env: TestEnvironment;
let results: ResultsStore;

function control(id: string, cadence: Cadence = 'monthly', addedOn = '2026-08-01'): ControlConfig {
  return {
    id,
    title: id,
    criteria: ['CC4.1'],
    cadence,
    owner: 'security',
    addedOn,
    test: { type: 'manual-attestation', prefix: 'x/', expects: 'x', minObjects: 1, maxObjects: 1 },
  };
}

async function record(
  controlId: string,
  periodKey: string,
  verdict: Verdict,
  cadence: Cadence = 'monthly',
  minutes = 10,
) {
  const period = periodFromKey(cadence, periodKey, 'UTC');
  const finishedAt = new Date(period.end.getTime() + minutes * 60_000).toISOString();
  await results.recordAttempt(periodAttempt(controlId, cadence, periodKey, verdict, finishedAt));
}
const everyMonth = async (id: string, except: string[] = []) => {
  for (const key of ['2026-08', '2026-09', '2026-10'].filter((k) => !except.includes(k)))
    await record(id, key, 'pass');
};

/** Rewrites the stored verdict item of a period (what a broken writer or a manual edit leaves behind). */
async function tamper(controlId: string, periodKey: string, verdict: string | null) {
  const key = { pk: `CONTROL#${controlId}`, sk: `VERDICT#monthly#${periodKey}` };
  await env.clients.dynamodb.send(
    new UpdateCommand(
      verdict === null
        ? { TableName: env.resources.resultsTable, Key: key, UpdateExpression: 'REMOVE verdict' }
        : {
            TableName: env.resources.resultsTable,
            Key: key,
            UpdateExpression: 'SET verdict = :v',
            ExpressionAttributeValues: { ':v': verdict },
          },
    ),
  );
}

function health(
  controls: ControlConfig[],
  options: { test?: Record<string, unknown>; asOf?: string; ports?: Partial<ControlPorts> } = {},
) {
  return runTest({
    test: { type: 'schedule-health', ...options.test },
    controlId: 'schedule-health',
    cadence: 'daily',
    periodKey: '2026-11-23',
    asOf: options.asOf ?? AS_OF,
    ports: options.ports ?? { verdictHistory: makeVerdictHistory(controls, results) },
  });
}

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  results = makeDynamoResultsStore(env.clients.dynamodb, env.resources.resultsTable);
});
afterAll(async () => env?.stop());

describeMatrix('schedule-health', scheduleHealthMatrix, {
  'control-every-period-checked': async () => {
    await everyMonth('m-control', ['2026-09']);
    await record('m-control', '2026-09', 'fail');
    return health([control('m-control')]);
  },
  'empty-history': () => health([control('m-empty')]),
  'no-controls-listed': () => health([]),
  'verdict-attribute-missing': async () => {
    await everyMonth('m-null');
    await tamper('m-null', '2026-10', null);
    return health([control('m-null')]);
  },
  'verdict-wrong-value': async () => {
    await everyMonth('m-type');
    await tamper('m-type', '2026-10', 'PASS');
    return health([control('m-type')]);
  },
  'period-end-exactly-grace-ago': () => health([control('d-grace', 'daily', '2026-11-23')]),
  'period-end-just-inside-grace': () =>
    health([control('d-inside', 'daily', '2026-11-23')], { asOf: '2026-11-24T05:59:59.999Z' }),
  'verdict-for-a-future-period': async () => {
    await record('m-future', '2026-08', 'pass');
    await record('m-future', '2026-12', 'pass');
    return health([control('m-future')]);
  },
  'verdict-recorded-after-the-check': async () => {
    await everyMonth('m-late', ['2026-10']);
    // 2026-10 ends 2026-11-01T00:00Z; the check runs at 2026-11-24T06:00Z.
    await record('m-late', '2026-10', 'pass', 'monthly', (23 * 24 + 6) * 60 + 1);
    return health([control('m-late')]);
  },
  'added-on-timestamp-without-zone': async () => {
    await everyMonth('m-zoneless');
    return health([control('m-zoneless', 'monthly', '2026-08-01T00:00:00')]);
  },
  'outlier-one-old-verdict': async () => {
    await record('m-outlier', '2026-08', 'pass');
    return health([control('m-outlier')]);
  },
  'duplicate-attempts-latest-errored': async () => {
    await everyMonth('m-dup', ['2026-10']);
    await record('m-dup', '2026-10', 'pass', 'monthly', 10);
    await record('m-dup', '2026-10', 'error', 'monthly', 20);
    return health([control('m-dup')]);
  },
  'look-alike-control-id': async () => {
    await record('m-look', '2026-08', 'pass');
    await everyMonth('m-look ', ['2026-08']);
    return health([control('m-look')]);
  },
  'results-table-missing': () =>
    health([control('m-missing')], {
      ports: {
        verdictHistory: makeVerdictHistory(
          [control('m-missing')],
          makeDynamoResultsStore(env.clients.dynamodb, 'no-such-table'),
        ),
      },
    }),
  'no-verdict-history': () => health([control('m-none')], { ports: {} }),
  'stale-only-errors': async () => {
    await everyMonth('m-stuck', ['2026-10']);
    await record('m-stuck', '2026-10', 'error', 'monthly', 10);
    await record('m-stuck', '2026-10', 'error', 'monthly', 20);
    return health([control('m-stuck')]);
  },
  'unknown-control-id': async () => {
    await everyMonth('m-here');
    return health([control('m-here')], { test: { controls: ['m-here', 'm-gone'] } });
  },
});
