import { describe, expect, it } from 'vitest';
import { checkEntries } from '../../../lib/verify/check-entries.ts';

describe('checkEntries', () => {
  it('reports each symlink and each repeated zip name, and nothing for a clean archive', () => {
    expect(checkEntries({})).toEqual([]);
    const problems = checkEntries({ irregular: ['evidence/link'], duplicates: ['evidence/a', 'evidence/b'] });
    expect(problems.map((p) => [p.code, p.file])).toEqual([
      ['unexpected-file', 'evidence/link'],
      ['duplicate-entry', 'evidence/a'],
      ['duplicate-entry', 'evidence/b'],
    ]);
  });
});
