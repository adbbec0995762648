import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * A cycle only bites in the import order that enters it from the wrong side, which the usual entry
 * points (all through the config loader) never do. Enter through modules a new contributor would
 * reach for first, each in a fresh process.
 */
const FIRST_IMPORTS = [
  'lib/controls/registry.ts',
  'lib/controls/log-completeness.ts',
  'lib/controls/restore-verification.ts',
  'lib/restore/verify-restore.ts',
  'lib/runs/run-control.ts',
  'lib/verify/verify-archive.ts',
  'lib/risks/evaluate-register.ts',
];

describe('module graph', () => {
  it.each(FIRST_IMPORTS)('loads with %s as the first import', (module) => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `await import('./${module}'); console.log('loaded');`],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(result.stderr).not.toMatch(/ReferenceError|before initialization/);
    expect(result.stdout.trim()).toBe('loaded');
    expect(result.status).toBe(0);
  });
});
