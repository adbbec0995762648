import { fc } from '@fast-check/vitest';
import { expect } from 'vitest';

/**
 * Shared by the parse fast-path tests (manifest, checkpoint): JSON-tree mutations and the check
 * that a hand-written fast path agrees with its zod schema, which stays the reference.
 */

/** Values a mutation puts anywhere in the tree: wrong types, near-miss hashes, instants, enums. */
export function hostileValues(extra: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.constantFrom<unknown>(
    null,
    '',
    'x',
    0,
    -0,
    -1,
    1,
    1.5,
    2,
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
    '2026-02-30',
    '2026-11-01',
    'events',
    'scheduled',
    'daily',
    'ECDSA_P256_SHA384',
    ...extra,
  );
}

type Node = Record<string, unknown> | unknown[];
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null;

/** Every object or array in the tree, with the root first. */
export function nodes(root: unknown): Node[] {
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

export interface Mutation {
  readonly op: 'delete' | 'add' | 'replace' | 'proto';
  readonly node: number;
  readonly key: number;
  readonly value: unknown;
  readonly name: string;
}

export const ADDED_NAMES = ['extra', 'kind', 'populations', 'signOffs', 'previous', 'id', '0'] as const;

export function mutations(hostile: fc.Arbitrary<unknown>): fc.Arbitrary<Mutation> {
  return fc.record({
    op: fc.constantFrom('delete' as const, 'add' as const, 'replace' as const, 'proto' as const),
    node: fc.nat(),
    key: fc.nat(),
    value: hostile,
    name: fc.constantFrom(...ADDED_NAMES),
  });
}

/** A copy of `root` with one change: a key deleted, added, replaced, or an own `__proto__` key. */
export function mutate(root: unknown, spec: Mutation): unknown {
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

/** Every single-point mutation of `json`: each key deleted, replaced by each value, keys added. */
export function* singlePointMutations(json: unknown, values: readonly unknown[]): Generator<unknown> {
  const all = nodes(json).length;
  for (let node = 0; node < all; node += 1) {
    const keys = Object.keys(nodes(json)[node] ?? {}).length;
    for (let key = 0; key < keys; key += 1) {
      yield mutate(json, { op: 'delete', node, key, value: null, name: 'extra' });
      for (const value of values) yield mutate(json, { op: 'replace', node, key, value, name: 'extra' });
    }
    for (const name of ADDED_NAMES) yield mutate(json, { op: 'add', node, key: 0, value: 1, name });
    yield mutate(json, { op: 'proto', node, key: 0, value: 1, name: 'extra' });
  }
}

/** Distinct values of an arbitrary (by JSON text). */
export function distinctValues(arbitrary: fc.Arbitrary<unknown>, seed: number): unknown[] {
  const values = fc.sample(arbitrary, { numRuns: 400, seed });
  return [...new Map(values.map((value) => [JSON.stringify(value), value])).values()];
}

interface SafeParser {
  safeParse(
    json: unknown,
  ):
    | { success: true; data: unknown }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

export interface FastPathUnderTest {
  /** `manifest`, `checkpoint`: the word the parser's errors use. */
  readonly noun: string;
  readonly schema: SafeParser;
  readonly fastPath: (json: unknown) => unknown;
  /** The parser as callers use it (fast path, then zod). */
  readonly parse: (bytes: Buffer) => unknown;
  readonly errorClass: new (...args: never[]) => Error;
}

/** zod alone, as the parser was before its fast path. */
function zodOnly(subject: FastPathUnderTest, bytes: Buffer): { value: unknown } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { error: 'not JSON' };
  }
  const parsed = subject.schema.safeParse(json);
  if (parsed.success) return { value: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    error: `not a ${subject.noun}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
  };
}

function viaParser(subject: FastPathUnderTest, bytes: Buffer): { value: unknown } | { error: string } {
  try {
    return { value: subject.parse(bytes) };
  } catch (error) {
    expect(error).toBeInstanceOf(subject.errorClass);
    return { error: (error as Error).message };
  }
}

/**
 * The fast path either declines or returns exactly zod's output (values and key order), never
 * accepts what zod rejects; the parser as a whole answers as zod alone does, error text included.
 */
export function expectSameAsZod(subject: FastPathUnderTest, json: unknown): 'fast' | 'declined' {
  const zod = subject.schema.safeParse(json);
  const fast = subject.fastPath(json);
  if (fast !== undefined) {
    expect(zod.success, `the fast path accepted a ${subject.noun} zod rejects`).toBe(true);
    if (zod.success) {
      expect(fast).toStrictEqual(zod.data);
      expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data));
    }
  }
  const bytes = Buffer.from(JSON.stringify(json), 'utf8');
  expect(viaParser(subject, bytes)).toStrictEqual(zodOnly(subject, bytes));
  return fast === undefined ? 'declined' : 'fast';
}
