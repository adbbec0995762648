import { describe, expect, it } from 'vitest';
import { publicKeyKey } from '../../../lib/evidence/evidence-layout.ts';
import { readPublicKeys } from '../../../lib/verify/read-public-keys.ts';
import { fileOf, testKey } from '../memory-archive.ts';

describe('readPublicKeys', () => {
  it('keeps a key whose file name is its fingerprint', () => {
    const key = testKey();
    const path = publicKeyKey(key.fingerprint);
    const phase = readPublicKeys(new Map([[path, fileOf(path, key.pem)]]));
    expect([...phase.keys.keys()]).toEqual([key.fingerprint]);
    expect(phase.accounted).toEqual([path]);
    expect(phase.problems).toEqual([]);
  });
  it('rejects a key file holding another key, and one that is not a key', () => {
    const named = testKey();
    const other = testKey();
    const swapped = publicKeyKey(named.fingerprint);
    const garbage = publicKeyKey('0'.repeat(64));
    const phase = readPublicKeys(
      new Map([
        [swapped, fileOf(swapped, other.pem)],
        [garbage, fileOf(garbage, 'not a key')],
      ]),
    );
    expect(phase.keys.size).toBe(0);
    expect(phase.problems.map((p) => [p.code, p.file])).toEqual([
      ['key-invalid', swapped],
      ['key-invalid', garbage],
    ]);
    expect(phase.accounted).toEqual([swapped, garbage]);
  });
});
