import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTROL_TEST_TYPES } from '../../../lib/controls/registry.ts';
import { MATRIX, renderMatrixMarkdown } from './index.ts';

const DOC = new URL('../../../docs/hostile-matrix.md', import.meta.url);

describe('docs/hostile-matrix.md', () => {
  it('covers every registered test type', () => {
    expect(Object.keys(MATRIX).sort()).toEqual([...CONTROL_TEST_TYPES].sort());
  });

  it('is generated from the matrix the tests run (SOC2_WRITE_DOCS=1 rewrites it)', () => {
    const rendered = renderMatrixMarkdown();
    if (process.env.SOC2_WRITE_DOCS === '1') writeFileSync(DOC, rendered);
    const onDisk = readFileSync(DOC, 'utf8');
    expect(
      onDisk === rendered,
      'docs/hostile-matrix.md is stale: run SOC2_WRITE_DOCS=1 npx vitest run test/controls/hostile-matrix/docs-table.test.ts',
    ).toBe(true);
  });
});
