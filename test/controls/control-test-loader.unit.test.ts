import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load-config.ts';
import type { ControlConfig } from '../../lib/config/schema.ts';
import { loadControlTest } from '../../lib/controls/control-test-loader.ts';
import { EvidenceLog } from '../../lib/controls/outcome.ts';
import {
  CONTROL_TEST_TYPES,
  type ControlTestParams,
  controlTestParamsSchema,
  populationsOf,
  runControlTest,
} from '../../lib/controls/registry.ts';
import { lastCompletePeriod } from '../../lib/shared/period.ts';
import { noPostgres } from './control-harness.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** Every type, with params as the config schema gives them: the example config's, plus the ones it leaves out. */
async function paramsOfEveryType(): Promise<ControlConfig[]> {
  const config = await loadConfig(join(REPO_ROOT, 'soc2-evidence.yaml'));
  const controls = [...config.controls];
  const missing = CONTROL_TEST_TYPES.filter(
    (type) => !controls.some((control) => control.test.type === type),
  );
  const extra: Record<string, Record<string, unknown>> = {
    'restore-test-history': {
      type: 'restore-test-history',
      sourceTarget: 'app',
      restoreTestingPlans: ['monthly_rds'],
      schemas: ['app'],
    },
  };
  for (const type of missing) {
    const test = extra[type];
    if (!test) throw new Error(`no params for ${type}: add them to this test`);
    controls.push({
      ...(controls[0] as ControlConfig),
      id: `loader-${type}`,
      test: controlTestParamsSchema.parse(test),
    });
  }
  return controls;
}

describe('loadControlTest (the runners load one test type at a time)', () => {
  it('loads every registered type with the populations the registry declares for it', async () => {
    const controls = await paramsOfEveryType();
    for (const type of CONTROL_TEST_TYPES) {
      const control = controls.find((candidate) => candidate.test.type === type);
      expect(control, type).toBeDefined();
      const loaded = await loadControlTest(control?.test as ControlTestParams);
      expect(loaded.populations, type).toEqual(populationsOf(type));
    }
  });

  it('runs the same check as the registry: identical outcome and evidence for every type', async () => {
    // No database and no AWS ports: every type reaches a verdict (most an `error` naming the
    // missing source), and the loaded module must reach the same one with the same evidence.
    for (const control of await paramsOfEveryType()) {
      const context = () => ({
        control,
        period: lastCompletePeriod(control.cadence, new Date('2026-11-01T00:00:00Z'), 'UTC'),
        asOf: new Date('2026-11-01T00:00:00Z'),
        now: new Date('2026-11-01T00:00:00Z'),
        ports: { postgres: noPostgres },
        evidence: new EvidenceLog(),
      });
      const viaRegistry = context();
      const viaLoader = context();
      const settle = (run: Promise<unknown>) => run.catch((error: unknown) => ({ threw: String(error) }));
      const expected = await settle(runControlTest(control.test, viaRegistry));
      const actual = await settle((await loadControlTest(control.test)).run(viaLoader));
      expect(actual, control.id).toEqual(expected);
      expect(viaLoader.evidence.entries, control.id).toEqual(viaRegistry.evidence.entries);
    }
  });
});
