import { fc } from '@fast-check/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { makeLocalSigner } from '../../../lib/evidence/local-signer.ts';
import type { Finding } from '../../../lib/verify/findings.ts';
import { verifyArchive } from '../../../lib/verify/verify-archive.ts';
import { testKey } from '../memory-archive.ts';
import { AS_OF, buildHistory, contentsOf, type HistorySpec, RANGE } from './histories.ts';
import { MUTATION_KINDS, type MutationSpec, mutate } from './mutations.ts';

/**
 * Property-based: every generated legitimate history verifies, every generated mutation of one is
 * rejected with a problem that names the file (and the control when it touched one), and verify
 * never throws. Fixed seed and bounded runs here; for a longer run:
 *   SOC2_PBT_RUNS=500 npx vitest run test/verify/properties   (SOC2_PBT_SEED=<n> for another seed)
 */
const NUM_RUNS = Number(process.env.SOC2_PBT_RUNS ?? 20);
const SEED = Number(process.env.SOC2_PBT_SEED ?? 20261201);
const MUTATIONS_PER_HISTORY = 6;

const signers = [makeLocalSigner(), makeLocalSigner()] as const;
const forger = testKey();

const historySpec: fc.Arbitrary<HistorySpec> = fc.record({
  controls: fc.array(
    fc.record({
      cadence: fc.constantFrom('daily' as const, 'weekly' as const, 'monthly' as const, 'quarterly' as const),
      addedAfterDays: fc.integer({ min: 0, max: 40 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  rotateAt: fc.option(fc.double({ min: 0.1, max: 0.9, noNaN: true }), { nil: null }),
  validatorRuns: fc.integer({ min: 0, max: 3 }),
  seed: fc.integer(),
});
const mutationSpec: fc.Arbitrary<MutationSpec> = fc.record({
  kind: fc.constantFrom(...MUTATION_KINDS),
  pick: fc.nat(),
  pick2: fc.nat(),
});

const counts = {
  histories: 0,
  mutations: 0,
  runs: 0,
  reruns: 0,
  crashes: 0,
  validatorRuns: 0,
  checkpoints: 0,
  rotated: 0,
};
const byKind = new Map<string, number>();

afterAll(() => {
  console.log(
    `property-based verify: ${counts.histories} legitimate histories (${counts.runs} runs, ${counts.reruns} re-runs, ${counts.crashes} crashes retried, ${counts.validatorRuns} validator runs, ${counts.checkpoints} checkpoints, ${counts.rotated} key rotations), ${counts.mutations} mutations rejected (${[...byKind].map(([kind, n]) => `${kind} ${n}`).join(', ')})`,
  );
});

function describeProblems(problems: readonly Finding[]): string {
  return problems
    .map((p) => `${p.code} ${p.file ?? ''} [${p.controlId ?? ''} ${p.periodKey ?? ''}]`)
    .join('\n');
}

describe('verify on generated histories', () => {
  it('accepts every legitimate history and rejects every mutation of it, naming file, control and period', async () => {
    await fc.assert(
      fc.asyncProperty(
        historySpec,
        fc.array(mutationSpec, { minLength: MUTATIONS_PER_HISTORY, maxLength: MUTATIONS_PER_HISTORY }),
        async (spec, mutations) => {
          const history = await buildHistory(spec, signers);
          const options = { asOf: AS_OF, range: RANGE, trustedKeys: history.trustedKeys };
          const report = verifyArchive(contentsOf(history.files), options);
          expect(describeProblems(report.problems), JSON.stringify(spec)).toBe('');
          counts.histories += 1;
          for (const key of ['runs', 'reruns', 'crashes', 'validatorRuns', 'checkpoints'] as const)
            counts[key] += history.stats[key];
          if (history.stats.rotated) counts.rotated += 1;
          for (const mutation of mutations) {
            const mutated = mutate(history.files, mutation, forger);
            if (!mutated) continue;
            const after = verifyArchive(contentsOf(mutated.files), options);
            const context = `${mutated.description}\n${describeProblems(after.problems)}`;
            expect(after.ok, context).toBe(false);
            expect(
              after.problems.some((problem) => problem.file),
              context,
            ).toBe(true);
            if (mutated.controlId) {
              expect(
                after.problems.some(
                  (problem) => problem.controlId === mutated.controlId && problem.periodKey,
                ),
                context,
              ).toBe(true);
            }
            counts.mutations += 1;
            byKind.set(mutation.kind, (byKind.get(mutation.kind) ?? 0) + 1);
          }
        },
      ),
      { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true },
    );
    expect(counts.histories).toBe(NUM_RUNS);
    expect(counts.mutations).toBeGreaterThan(NUM_RUNS * 3);
  }, 120_000);
});
