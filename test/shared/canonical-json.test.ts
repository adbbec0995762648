import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../lib/shared/canonical-json.ts';

const NUM_RUNS = Number(process.env.SOC2_PBT_RUNS ?? 1_000);
const SEED = Number(process.env.SOC2_PBT_SEED ?? 20261202);
const options = { numRuns: NUM_RUNS, seed: SEED };

/**
 * The implementation before the flat-record fast path, kept verbatim as the reference: every
 * manifest, checkpoint and population line ever signed was written by it, so the fast path must
 * give the same text for every input, byte for byte.
 */
function referenceCanonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner && typeof inner === 'object' && !Array.isArray(inner) && !(inner instanceof Date)) {
      return Object.fromEntries(
        Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return inner;
  });
}

/** Keys that JavaScript orders or treats specially: integer-like, `__proto__`, `toJSON`, unicode. */
const awkwardKey = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.string({ maxLength: 4, unit: 'binary' }),
  fc.constantFrom(
    '0',
    '1',
    '2',
    '10',
    '01',
    '-1',
    '4294967294',
    '4294967295',
    '1.5',
    '__proto__',
    'toJSON',
    'constructor',
    '',
    'é',
    '\ud800',
    'a',
    'B',
    '!',
    '~',
  ),
);

const primitive = fc.oneof(
  fc.string({ maxLength: 8, unit: 'binary' }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.double(),
  fc.integer(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, 5e-324),
);

/** Insertion order matters (sorted keys take the direct path), so keys are inserted as generated. */
const flatRecord = fc
  .array(fc.tuple(awkwardKey, primitive), { maxLength: 10 })
  .chain((entries) =>
    fc.oneof(
      fc.constant(entries),
      fc.constant([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    ),
  )
  .map((entries) => {
    const record: Record<string, unknown> = {};
    // defineProperty, so `__proto__` becomes an own data key as it does in JSON.parse.
    for (const [key, value] of entries)
      Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
    return record;
  });

describe('canonicalJson', () => {
  it('gives the reference text for flat records of primitives, in any key order (property)', () => {
    fc.assert(
      fc.property(flatRecord, fc.boolean(), (record, nullPrototype) => {
        const value = nullPrototype ? Object.assign(Object.create(null) as object, record) : record;
        expect(canonicalJson(value)).toBe(referenceCanonicalJson(value));
      }),
      options,
    );
  });

  it('gives the reference text for any JSON-like value, nested or not (property)', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.anything({
          withDate: true,
          withNullPrototype: true,
          withMap: true,
          withSet: true,
          withBoxedValues: true,
          withSparseArray: true,
        }),
        (json, anything) => {
          expect(canonicalJson(json)).toBe(referenceCanonicalJson(json));
          let expected: string | undefined;
          try {
            expected = referenceCanonicalJson(anything);
          } catch (error) {
            expect(() => canonicalJson(anything)).toThrow((error as Error).constructor as ErrorConstructor);
            return;
          }
          expect(canonicalJson(anything)).toBe(expected);
        },
      ),
      options,
    );
  });

  it('sorts keys, drops undefined, and leaves what is not a plain record to the general path', () => {
    expect(canonicalJson({ b: 1, a: 'x', c: undefined })).toBe('{"a":"x","b":1}');
    expect(canonicalJson({ z: { b: 2, a: 1 }, a: [3, { d: 1, c: 2 }] })).toBe(
      '{"a":[3,{"c":2,"d":1}],"z":{"a":1,"b":2}}',
    );
    // Integer-like keys come first, in numeric order, on both paths (JavaScript's own key order).
    expect(canonicalJson({ b: 1, 10: 'ten', 2: 'two', a: 0 })).toBe('{"2":"two","10":"ten","a":0,"b":1}');
    expect(canonicalJson(JSON.parse('{"__proto__":1,"a":2}'))).toBe('{"__proto__":1,"a":2}');
    expect(canonicalJson({ toJSON: () => ({ b: 1, a: 2 }) })).toBe('{"a":2,"b":1}');
    expect(canonicalJson({ when: new Date('2026-12-02T00:00:00Z'), a: 1 })).toBe(
      '{"a":1,"when":"2026-12-02T00:00:00.000Z"}',
    );
    class Item {
      b = 1;
      a = 2;
    }
    expect(canonicalJson(new Item())).toBe('{"a":2,"b":1}');
    expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
  });
});
