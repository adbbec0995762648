import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAGGED, SAMPLED_CONTROL, sampledEvidence, syncTo } from '../audit/sample-fixture.ts';

/** `sample` as users run it: the binary spawned, exit code and output asserted (pattern of cli-exit-codes). */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'soc2-evidence.mjs');

function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...process.env, SOC2_EVIDENCE_BUCKET: '' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('soc2-evidence sample as a process', { timeout: 180_000 }, () => {
  let dir: string;
  let evidence: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'soc2-sample-e2e-'));
    evidence = join(dir, 'evidence');
    await syncTo(await sampledEvidence(), evidence);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const draw = (out: string, extra: readonly string[] = []) =>
    cli([
      'sample',
      '--source',
      evidence,
      '--control',
      SAMPLED_CONTROL,
      '--population',
      FLAGGED.name,
      '--from',
      '2026-01-01',
      '--to',
      '2026-03-31',
      '--seed',
      'auditor-7f3a',
      '--out',
      out,
      ...extra,
    ]);

  it('exits 0 drawing a sample and 0 confirming it, 1 on an edited selection, 2 on bad usage', async () => {
    const out = join(dir, 'sample');
    const drawn = await draw(out);
    expect(drawn.stderr).toBe('');
    expect(drawn.code).toBe(0);
    expect(drawn.stdout).toContain('13 of 125 items (by population size: up to 250, 10%)');

    const confirmed = await cli(['sample', '--check', out]);
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain('sample confirmed: 13 of 125 items');

    const file = JSON.parse(await readFile(join(out, 'sample.json'), 'utf8'));
    file.selected = file.selected.slice(1);
    await writeFile(join(out, 'sample.json'), JSON.stringify(file));
    const rejected = await cli(['sample', '--check', out]);
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain('selection-altered');

    const missing = await cli(['sample', '--control', SAMPLED_CONTROL]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing --population');
    const badDate = await draw(join(dir, 'bad'), ['--from', '2026-13-01']);
    expect(badDate.code).toBe(2);
  });

  it('exits 1 when the population a sample is drawn from was changed', async () => {
    const copy = join(dir, 'tampered');
    await syncTo(await sampledEvidence(), copy);
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(copy, { recursive: true })).filter((name) => name.endsWith('.jsonl'));
    const target = join(copy, files[0] ?? '');
    await writeFile(target, (await readFile(target, 'utf8')).replace('user-00001', 'user-99999'));
    const result = await cli([
      'sample',
      '--source',
      copy,
      '--control',
      SAMPLED_CONTROL,
      '--population',
      FLAGGED.name,
      '--from',
      '2026-01-01',
      '--to',
      '2026-03-31',
      '--seed',
      's',
      '--out',
      join(dir, 'never'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('population-altered');
  });
});
