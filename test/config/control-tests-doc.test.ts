import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CONTROL_TEST_TYPES } from '../../lib/controls/registry.ts';
import { CONTROL_TESTS_DOC_PATH, controlTestsDocText } from '../../scripts/write-control-tests-doc.ts';

describe('docs/control-tests.md', () => {
  it('matches the zod schemas and the reference (run `npm run docs` after changing either)', async () => {
    const committed = await readFile(CONTROL_TESTS_DOC_PATH, 'utf8').catch(() => '(missing)');
    if (committed !== controlTestsDocText()) {
      expect.fail('docs/control-tests.md is stale: run `npm run docs` and commit the result.');
    }
  });

  it('documents every registered test type, and every parameter has a description', () => {
    const text = controlTestsDocText();
    for (const type of CONTROL_TEST_TYPES) expect(text).toContain(`## \`${type}\``);
    const undocumented = text
      .split('\n')
      .filter((line) => line.startsWith('| `') && line.trimEnd().endsWith('|  |'))
      .map((line) => line.split('|')[1]?.trim());
    expect(undocumented).toEqual([]);
  });
});
