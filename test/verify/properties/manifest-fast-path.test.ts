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

const hostile = fc.constantFrom<unknown>(
  null,
  '',
  'x',
  0,
  -0,
  -1,
  1,
  1.5,
  2 ** 60,
  true,
  [],
  {},
  ['x'],
  [{}],
  { __proto__: null },
  'A'.repeat(64),
  'a'.repeat(63),
  'a'.repeat(64),
  '2026-02-30T00:00:00Z',
  '2026-11-01T00:00:00',
  '2026-11-01T24:00:00Z',
  '2026-11-01T00:00:00.000Z',
  'events',
  'scheduled',
  'daily',
  'pass',
  'ECDSA_P256_SHA384',
  MANIFEST_KIND,
  2,
);

type Node = Record<string, unknown> | unknown[];
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null;

/** Every object or array in the tree, with the root first. */
function nodes(root: unknown): Node[] {
  const found: Node[] = [];
  const walk = (value: unknown) => {
    if (!isNode(value)) return;
    found.push(value);
    for (const inner of Object.values(value)) walk(inner);
  };
  walk(root);
  return found;
}

/** Sets an own property the way JSON.parse does (a `__proto__` key included). */
function define(target: Node, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('delete' as const, 'add' as const, 'replace' as const, 'proto' as const),
  node: fc.nat(),
  key: fc.nat(),
  value: hostile,
  name: fc.constantFrom('extra', 'kind', 'populations', 'previous', 'id', '0'),
});

interface Mutation {
  readonly op: 'delete' | 'add' | 'replace' | 'proto';
  readonly node: number;
  readonly key: number;
  readonly value: unknown;
  readonly name: string;
}

function mutate(root: unknown, spec: Mutation): unknown {
  const copy = JSON.parse(JSON.stringify(root)) as unknown;
  const all = nodes(copy);
  const target = all[spec.node % all.length];
  if (!target) return copy;
  const keys = Object.keys(target);
  const key = keys.length > 0 ? (keys[spec.key % keys.length] as string) : undefined;
  if (spec.op === 'delete' && key !== undefined) {
    if (Array.isArray(target)) target.splice(Number(key), 1);
    else delete target[key];
  } else if (spec.op === 'add')
    define(target, Array.isArray(target) ? String(target.length) : spec.name, spec.value);
  else if (spec.op === 'replace' && key !== undefined) define(target, key, spec.value);
  else if (spec.op === 'proto' && !Array.isArray(target)) define(target, '__proto__', spec.value);
  return copy;
}

/** zod alone, as `parseManifest` was before the fast path. */
function zodOnly(bytes: Buffer): { manifest: unknown } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { error: 'not JSON' };
  }
  const parsed = manifestSchema.safeParse(json);
  if (parsed.success) return { manifest: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    error: `not a manifest: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
  };
}

function viaParseManifest(bytes: Buffer): { manifest: unknown } | { error: string } {
  try {
    return { manifest: parseManifest(bytes) };
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return { error: (error as Error).message };
  }
}

function expectSameAsZod(json: unknown): 'fast' | 'declined' {
  const zod = manifestSchema.safeParse(json);
  const fast = manifestFastPath(json);
  if (fast !== undefined) {
    expect(zod.success, 'the fast path accepted what zod rejects').toBe(true);
    expect(fast).toStrictEqual(zod.data);
    expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data));
  }
  const bytes = Buffer.from(JSON.stringify(json), 'utf8');
  expect(viaParseManifest(bytes)).toStrictEqual(zodOnly(bytes));
  return fast === undefined ? 'declined' : 'fast';
}

describe('manifest fast path', () => {
  it('returns exactly what zod returns for generated valid manifests (populations go to zod)', () => {
    const taken = { fast: 0, declined: 0 };
    fc.assert(
      fc.property(manifest, (json) => {
        const path = expectSameAsZod(json);
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
        expectSameAsZod(mutated);
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
    const values = fc.sample(hostile, { numRuns: 400, seed: SEED });
    const distinct = [...new Map(values.map((value) => [JSON.stringify(value), value])).values()];
    let tried = 0;
    for (const json of samples) {
      const all = nodes(json).length;
      for (let node = 0; node < all; node += 1) {
        const keys = Object.keys(nodes(json)[node] ?? {}).length;
        for (let key = 0; key < keys; key += 1) {
          expectSameAsZod(mutate(json, { op: 'delete', node, key, value: null, name: 'extra' }));
          for (const value of distinct) {
            expectSameAsZod(mutate(json, { op: 'replace', node, key, value, name: 'extra' }));
            tried += 1;
          }
        }
        for (const name of ['extra', 'kind', 'populations', 'previous', 'id', '0'] as const)
          expectSameAsZod(mutate(json, { op: 'add', node, key: 0, value: 1, name }));
        expectSameAsZod(mutate(json, { op: 'proto', node, key: 0, value: 1, name: 'extra' }));
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
