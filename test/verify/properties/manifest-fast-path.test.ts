import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  MANIFEST_KIND,
  MANIFEST_SCHEMA_VERSION,
  ManifestError,
  manifestFastPath,
  manifestSchema,
  parseManifest,
} from '../../../lib/evidence/manifest.ts';
import {
  distinctValues,
  expectSameAsZod,
  type FastPathUnderTest,
  hostileValues,
  mutate,
  mutations,
  singlePointMutations,
} from './fast-path-harness.ts';

/**
 * The hand-written manifest fast path against zod, which stays the reference: on generated valid
 * manifests and single mutations of them (a key removed, added, or a value replaced by a hostile
 * one, anywhere in the tree), the fast path either declines or returns exactly zod's output (same
 * values, same key order); it never accepts what zod rejects. `parseManifest` as a whole accepts
 * and rejects exactly what zod alone does, with the same error text.
 *   SOC2_PBT_RUNS=5000 npx vitest run test/verify/properties/manifest-fast-path.test.ts
 */
const NUM_RUNS = Number(process.env.SOC2_PBT_RUNS ?? 300);
const SEED = Number(process.env.SOC2_PBT_SEED ?? 20261202);

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const instant = fc.oneof(
  fc
    .date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '2026-02-28T23:00:00+01:00',
    '2024-02-29T00:00:00Z',
    '2026-11-01T04:00:00-05:30',
    '2026-01-01T00:00:00.5Z',
  ),
);
const text = fc.oneof(fc.string(), fc.constantFrom('', 'constructor', '__proto__', 'toString', '0', 'é'));
const figure = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
);
const link = fc.record({
  sequence: fc.integer({ min: 1, max: 10_000 }),
  key: fc.string({ minLength: 1 }),
  sha256: hex64,
  signature: fc.string({ minLength: 1 }),
  periodKey: fc.string({ minLength: 1 }),
});
const population = fc.record({
  name: fc.constantFrom('users', 'rotation-events', 'findings-seen'),
  description: fc.string(),
  key: fc.string({ minLength: 1 }),
  rows: fc.nat(),
  sha256: hex64,
  cap: fc.record({ limit: fc.integer({ min: 1, max: 100_000 }), reached: fc.boolean() }),
  provenance: fc.record({
    source: fc.constant('api'),
    service: fc.constant('iam'),
    operation: fc.constant('ListUsers'),
    request: fc.jsonValue(),
    executedAt: instant,
  }),
});

const manifest = fc
  .record({
    kind: fc.constant(MANIFEST_KIND),
    schemaVersion: fc.constant(MANIFEST_SCHEMA_VERSION),
    control: fc.record({
      id: fc.string({ minLength: 1 }),
      criteria: fc.array(text, { maxLength: 3 }),
      owner: text,
    }),
    period: fc.record({
      cadence: fc.constantFrom('daily', 'weekly', 'monthly', 'quarterly', 'annual'),
      key: fc.string({ minLength: 1 }),
      start: instant,
      end: instant,
      timeZone: fc.constantFrom('UTC', 'America/New_York', 'x'),
    }),
    runId: fc.string({ minLength: 1 }),
    verdict: fc.constantFrom('pass', 'fail', 'error'),
    reasons: fc.array(text, { maxLength: 3 }),
    warnings: fc.array(text, { maxLength: 2 }),
    figures: fc.dictionary(text, figure, { maxKeys: 4 }),
    collectedAt: instant,
    expiresAt: instant,
    artifacts: fc.array(
      fc.record({
        key: fc.string({ minLength: 1 }),
        size: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
        sha256: hex64,
        contentType: fc.constantFrom('application/json', 'application/x-ndjson'),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    populations: fc.option(fc.array(population, { maxLength: 2 }), { nil: undefined, freq: 1 }),
    chain: fc.record(
      {
        sequence: fc.integer({ min: 1, max: 10_000 }),
        previous: fc.option(link, { nil: null }),
        kind: fc.constant('events'),
      },
      { requiredKeys: ['sequence', 'previous'] },
    ),
    signing: fc.record({
      algorithm: fc.constant('ECDSA_P256_SHA256'),
      keyFingerprint: hex64,
      publicKeyKey: fc.string({ minLength: 1 }),
    }),
    tool: fc.record({ name: fc.constant('soc2-evidence'), version: fc.string() }),
  })
  // As stored: JSON text (an absent population list is no key at all), parsed back.
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown);

const hostile = hostileValues(['pass', MANIFEST_KIND]);
const mutation = mutations(hostile);
const subject: FastPathUnderTest = {
  noun: 'manifest',
  schema: manifestSchema,
  fastPath: manifestFastPath,
  parse: parseManifest,
  errorClass: ManifestError,
};
const expectSame = (json: unknown) => expectSameAsZod(subject, json);

// Generous: zod parses thousands of mutated objects, and the shared machines run at load 10+.
describe('manifest fast path', { timeout: 120_000 }, () => {
  it('returns exactly what zod returns for generated valid manifests (populations go to zod)', () => {
    const taken = { fast: 0, declined: 0 };
    fc.assert(
      fc.property(manifest, (json) => {
        const path = expectSame(json);
        taken[path] += 1;
        const { populations, figures } = json as Record<string, unknown>;
        const left = populations !== undefined || Object.hasOwn(figures as object, '__proto__');
        expect(path).toBe(left ? 'declined' : 'fast');
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    );
    expect(taken.fast).toBeGreaterThan(NUM_RUNS / 3);
  });

  it('never accepts a mutated manifest zod rejects, and parseManifest words errors as zod does', () => {
    let rejected = 0;
    fc.assert(
      fc.property(manifest, fc.array(mutation, { minLength: 1, maxLength: 2 }), (json, specs) => {
        const mutated = specs.reduce(mutate, json);
        expectSame(mutated);
        if (!manifestSchema.safeParse(mutated).success) rejected += 1;
      }),
      { numRuns: NUM_RUNS * 3, seed: SEED },
    );
    // The mutations must mostly produce invalid manifests, or this test would prove little.
    expect(rejected).toBeGreaterThan(NUM_RUNS);
  });

  it('agrees with zod on every single-point mutation of sampled manifests (each path, each value)', () => {
    const samples = fc
      .sample(manifest, { numRuns: 20, seed: SEED })
      .filter((json) => manifestFastPath(json) !== undefined)
      .slice(0, 6);
    expect(samples.length).toBe(6);
    const values = distinctValues(hostile, SEED);
    let tried = 0;
    for (const json of samples) {
      for (const mutated of singlePointMutations(json, values)) {
        expectSame(mutated);
        tried += 1;
      }
    }
    expect(tried).toBeGreaterThan(3000);
  });

  it('leaves a __proto__ figure and an unknown key to zod', () => {
    const valid = fc
      .sample(manifest, { numRuns: 50, seed: SEED })
      .find((json) => manifestFastPath(json) !== undefined) as Record<string, unknown>;
    expect(manifestFastPath(valid)).toBeDefined();
    const figures = JSON.parse('{"__proto__": 1, "n": 2}') as unknown;
    expect(manifestFastPath({ ...valid, figures })).toBeUndefined();
    expect(manifestSchema.parse({ ...valid, figures }).figures).toStrictEqual({ n: 2 });
    expect(manifestFastPath({ ...valid, extra: 1 })).toBeUndefined();
    expect(() => parseManifest(Buffer.from(JSON.stringify({ ...valid, extra: 1 })))).toThrow(
      /not a manifest: \(root\): Unrecognized key: "extra"/,
    );
  });
});
