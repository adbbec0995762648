/**
 * Checks of parsed JSON for the hand-written parse fast paths (manifests, checkpoints): each says
 * only "this value has exactly this shape"; anything else goes to the zod schema, which decides.
 */

import { SIGNATURE_ALGORITHM } from './signer.ts';

export type JsonObject = Record<string, unknown>;

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Exactly the `required` keys (`optional` may be there too), own and enumerable, nothing else. */
export function hasKeys(value: JsonObject, required: readonly string[], optional?: string): boolean {
  let count = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    if (key === optional) continue;
    if (!required.includes(key)) return false;
    count += 1;
  }
  return count === required.length;
}

export const isString = (value: unknown): value is string => typeof value === 'string';

export const isNonEmpty = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** What `z.number().int().min(min)` accepts: a safe integer of at least `min`. */
export const isCount = (value: unknown, min: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min;

export const isSha256 = (value: unknown): value is string => isString(value) && SHA256_PATTERN.test(value);

const SIGNING_KEYS = ['algorithm', 'keyFingerprint', 'publicKeyKey'];
const TOOL_KEYS = ['name', 'version'];

/** The `signing` block every signed document carries, in schema key order. */
export function signingOf(
  value: unknown,
): { algorithm: typeof SIGNATURE_ALGORITHM; keyFingerprint: string; publicKeyKey: string } | undefined {
  if (!isObject(value) || !hasKeys(value, SIGNING_KEYS)) return undefined;
  const { algorithm, keyFingerprint, publicKeyKey } = value;
  if (algorithm !== SIGNATURE_ALGORITHM || !isSha256(keyFingerprint) || !isNonEmpty(publicKeyKey))
    return undefined;
  return { algorithm, keyFingerprint, publicKeyKey };
}

/** The `tool` block (name and version of the writer), in schema key order. */
export function toolOf(value: unknown): { name: string; version: string } | undefined {
  if (!isObject(value) || !hasKeys(value, TOOL_KEYS) || !isString(value.name) || !isString(value.version))
    return undefined;
  return { name: value.name, version: value.version };
}
