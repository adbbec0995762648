import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { checkSample, writeSample } from '../../lib/audit/sample-record.ts';
import { sampleSizeTable } from '../../lib/audit/sample-size.ts';
import type { ControlConfig } from '../../lib/config/schema.ts';
import { type ControlOutcome, EvidenceLog } from '../../lib/controls/outcome.ts';
import type { WrittenPopulation } from '../../lib/controls/population.ts';
import type { ControlPorts } from '../../lib/controls/ports.ts';
import { controlTestParamsSchema, populationsOf, runControlTest } from '../../lib/controls/registry.ts';
import { makeMemoryChainHeads } from '../../lib/evidence/chain-head-store.ts';
import { makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import { type Manifest, parseManifest } from '../../lib/evidence/manifest.ts';
import { makeEvidenceRecorder, makeMemoryObjectStore } from '../../lib/evidence/record-evidence.ts';
import { type Cadence, type Period, periodFromKey } from '../../lib/shared/period.ts';
import type { ArchiveFile } from '../../lib/verify/archive-file.ts';
import { verifyArchive } from '../../lib/verify/verify-archive.ts';
import { memorySource } from '../audit/sample-fixture.ts';
import { runResult } from '../verify/evidence-fixture.ts';
import { fileOf } from '../verify/memory-archive.ts';
import { noPostgres } from './control-harness.ts';

/** A control test run the way the runner runs it: populations streamed into its folder, then signed. */
export interface RecordedRun {
  readonly outcome: ControlOutcome;
  readonly period: Period;
  readonly written: readonly WrittenPopulation[];
  readonly manifest: Manifest;
  readonly objects: Map<string, Buffer>;
  population(name: string): WrittenPopulation;
  /** The population's items, parsed, in file order. */
  items(name: string): Record<string, unknown>[];
}

export async function runRecorded(options: {
  test: Record<string, unknown>;
  cadence: Cadence;
  periodKey: string;
  asOf: Date;
  now?: Date;
  ports: Partial<ControlPorts>;
  controlId?: string;
}): Promise<RecordedRun> {
  const params = controlTestParamsSchema.parse(options.test);
  const controlId = options.controlId ?? 'control-under-test';
  const control: ControlConfig = {
    id: controlId,
    title: 'Control under test',
    criteria: ['CC6.1'],
    cadence: options.cadence,
    owner: 'security',
    test: params,
  };
  const store = makeMemoryObjectStore();
  const recorder = makeEvidenceRecorder({
    store,
    populationStore: store,
    signer: makeLocalSigner(),
    chain: makeMemoryChainHeads(),
  });
  const base = runResult({ controlId, cadence: options.cadence, periodKey: options.periodKey });
  const session = recorder.openPopulations?.(base, populationsOf(params.type));
  if (!session) throw new Error('the recorder offers no population sink');
  const period = periodFromKey(options.cadence, options.periodKey, 'UTC');
  const evidence = new EvidenceLog();
  const outcome = await runControlTest(params, {
    control,
    period,
    asOf: options.asOf,
    now: options.now ?? options.asOf,
    ports: { postgres: noPostgres, ...options.ports },
    evidence,
    populations: session.sink,
  });
  const written = session.close();
  const stored = await recorder.record({ ...base, outcome, entries: evidence.entries, populations: written });
  const manifest = parseManifest(store.objects.get(stored.manifestKey) ?? Buffer.alloc(0));
  const population = (name: string) => {
    const found = written.find((p) => p.name === name);
    if (!found) throw new Error(`no population ${name}; written: ${written.map((p) => p.name).join(', ')}`);
    return found;
  };
  return {
    outcome,
    period,
    written,
    manifest,
    objects: store.objects,
    population,
    items: (name) =>
      (store.objects.get(population(name).key)?.toString('utf8') ?? '')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** The verifier's findings on the objects (lines counted as the folder workers count them), bar the missing checkpoint. */
export function verifyProblems(
  run: RecordedRun,
  objects: ReadonlyMap<string, Buffer> = run.objects,
): string[] {
  const files = new Map<string, ArchiveFile>();
  const populationKeys = new Set(run.written.map((p) => p.key));
  for (const [key, body] of objects) {
    const file = fileOf(key, body);
    files.set(
      key,
      populationKeys.has(key) ? { ...file, lines: body.toString('utf8').split('\n').length - 1 } : file,
    );
  }
  const day = (at: Date) => at.toISOString().slice(0, 10);
  const report = verifyArchive(
    { kind: 'folder', source: 'bucket', files, bytes: 0 },
    {
      range: { from: day(run.period.start), to: day(new Date(run.period.end.getTime() - 1)) },
      asOf: new Date(run.period.end.getTime() + 2 * 86_400_000),
    },
  );
  // The fixture writes no checkpoint; that finding is not about populations.
  return report.problems.map((p) => p.code).filter((code) => code !== 'checkpoint-missing');
}

/**
 * Checks what every population must satisfy once recorded: listed in the signed manifest with the
 * hash, size and rows of its file and with its provenance; the evidence verifies; a sample drawn
 * from it is confirmed by `sample --check`.
 */
export async function expectSealedAndSampled(run: RecordedRun, name: string) {
  const written = run.population(name);
  const listed = run.manifest.populations?.find((p) => p.name === name);
  const file = run.objects.get(written.key) ?? Buffer.alloc(0);
  expect(listed).toMatchObject({
    key: written.key,
    rows: run.items(name).length,
    sha256: written.sha256,
    cap: { limit: 1_000_000, reached: false },
    // As signed: JSON, so absent fields are absent rather than undefined.
    provenance: JSON.parse(JSON.stringify(written.provenance)),
  });
  expect(run.manifest.artifacts.find((artifact) => artifact.key === written.key)).toMatchObject({
    sha256: written.sha256,
    size: file.length,
  });
  expect(verifyProblems(run)).toEqual([]);
  const dir = await mkdtemp(join(tmpdir(), 'soc2-population-sample-'));
  const day = (at: Date) => at.toISOString().slice(0, 10);
  await writeSample(
    memorySource(run.objects),
    {
      controlId: run.manifest.control.id,
      population: name,
      from: day(run.period.start),
      to: day(new Date(run.period.end.getTime() - 1)),
      seed: 'auditor-chosen-seed',
      table: sampleSizeTable(undefined),
    },
    dir,
  );
  const check = await checkSample(dir);
  expect(check.problems).toEqual([]);
  expect(check.file?.populationSize).toBe(run.items(name).length);
  return { dir, file };
}

/**
 * The population attacked after it was sealed: a line left out, a line repeated, an item from
 * outside the period added. Each must be named by `verify` on the evidence and by `sample --check`
 * on a sample's folder; returns what each said, per attack.
 */
export async function attackSealedPopulation(
  run: RecordedRun,
  name: string,
  outsider: Record<string, unknown>,
) {
  const { dir, file } = await expectSealedAndSampled(run, name);
  const lines = file.toString('utf8').split('\n').filter(Boolean);
  expect(lines.length).toBeGreaterThan(1);
  const attacks = {
    omitted: lines.slice(1),
    duplicated: [lines[0] as string, ...lines],
    outsider: [...lines, JSON.stringify(outsider)],
  };
  const key = run.population(name).key;
  const said: Record<string, { verify: string[]; check: string[] }> = {};
  for (const [attack, body] of Object.entries(attacks)) {
    const bytes = Buffer.from(body.map((line) => `${line}\n`).join(''));
    const objects = new Map(run.objects);
    objects.set(key, bytes);
    const copy = join(dir, key);
    const original = await readFile(copy);
    await writeFile(copy, bytes);
    const check = await checkSample(dir);
    await writeFile(copy, original);
    said[attack] = { verify: verifyProblems(run, objects), check: check.problems.map((p) => p.code) };
  }
  // Put back, the sample is confirmed again: the checks above failed for the attack, nothing else.
  expect((await checkSample(dir)).ok).toBe(true);
  return said;
}
