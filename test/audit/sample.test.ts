import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawSample, itemDigest, type SampleRequest } from '../../lib/audit/sample.ts';
import { checkSample, writeSample } from '../../lib/audit/sample-record.ts';
import { sampleSizeFor, sampleSizeTable } from '../../lib/audit/sample-size.ts';
import { folderEvidenceSource, pathEvidenceSource } from '../../lib/audit/sample-source.ts';
import { makeMemoryChainHeads } from '../../lib/evidence/chain-head-store.ts';
import { makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import { makeEvidenceRecorder, makeMemoryObjectStore } from '../../lib/evidence/record-evidence.ts';
import { runResult } from '../verify/evidence-fixture.ts';
import {
  accounts,
  exportTo,
  FLAGGED,
  memorySource,
  SAMPLED_CONTROL,
  sampledEvidence,
  syncTo,
} from './sample-fixture.ts';

const NUM_RUNS = Number(process.env.SOC2_PBT_RUNS ?? 20);
const SEED = Number(process.env.SOC2_PBT_SEED ?? 20261201);

let work: string;
let objects: Map<string, Buffer>;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'soc2-sample-'));
  objects = await sampledEvidence();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const request = (overrides: Partial<SampleRequest> = {}): SampleRequest => ({
  controlId: SAMPLED_CONTROL,
  population: FLAGGED.name,
  from: '2026-01-01',
  to: '2026-03-31',
  seed: 'auditor-seed-7f3a',
  table: sampleSizeTable(undefined),
  ...overrides,
});

describe('sample', () => {
  it('draws the same selection from the bucket, an export zip and a synced folder of the same range', async () => {
    const zip = join(work, 'export.zip');
    const folder = join(work, 'synced');
    await exportTo(objects, zip);
    await syncTo(objects, folder);
    const fromBucket = await drawSample(memorySource(objects), request());
    const zipSource = await pathEvidenceSource(zip);
    const fromZip = await drawSample(zipSource, request());
    zipSource.close();
    const fromFolder = await drawSample(await folderEvidenceSource(folder), request());
    // 40 + 25 + 60 = 125 items: the 51-250 row, 10% rounded up.
    expect(fromBucket.populationSize).toBe(125);
    expect(fromBucket.size).toEqual({ n: 13, rule: 'by population size: up to 250, 10%' });
    expect(fromBucket.selected).toHaveLength(13);
    expect(fromZip.selected).toEqual(fromBucket.selected);
    expect(fromFolder.selected).toEqual(fromBucket.selected);
    expect(fromZip.populationSha256).toBe(fromBucket.populationSha256);
    expect(fromBucket.sources.map((source) => source.periodKey)).toEqual(['2026-01', '2026-02', '2026-03']);
  });

  it('ranks by HMAC-SHA256 of seed and "<period>/<id>": the selection is the 13 smallest digests of all items', async () => {
    const result = await drawSample(memorySource(objects), request());
    const naive = [
      ...accounts('2026-01', 40).map((item) => `2026-01/${item.id}`),
      ...accounts('2026-02', 25).map((item) => `2026-02/${item.id}`),
      ...accounts('2026-03', 60).map((item) => `2026-03/${item.id}`),
    ]
      .map((id) => ({ id, hmac: itemDigest('auditor-seed-7f3a', id) }))
      .sort((a, b) => (a.hmac < b.hmac ? -1 : 1))
      .slice(0, 13);
    expect(result.selected.map(({ id, hmac }) => ({ id, hmac }))).toEqual(naive);
    const other = await drawSample(memorySource(objects), request({ seed: 'another-seed' }));
    expect(other.selected.map((item) => item.id)).not.toEqual(result.selected.map((item) => item.id));
  });

  it('sizes the runs population by the control frequency: monthly takes 2 of 3 runs', async () => {
    const result = await drawSample(memorySource(objects), request({ population: 'runs' }));
    expect(result.populationSize).toBe(3);
    expect(result.size).toEqual({ n: 2, rule: 'by frequency: monthly 2' });
  });

  it('check accepts a sample written to DIR, and rejects a hand-edited selection with selection-altered', async () => {
    const dir = join(work, 'sample-edit');
    const { file } = await writeSample(memorySource(objects), request(), dir);
    expect(await checkSample(dir)).toMatchObject({ ok: true, problems: [] });

    const unpicked = accounts('2026-02', 25)
      .map((item) => `2026-02/${item.id}`)
      .find((id) => !file.selected.some((selected) => selected.id === id));
    const edited = structuredClone(file);
    const first = edited.selected[0];
    if (!first || !unpicked) throw new Error('fixture has no item to swap');
    edited.selected[0] = { ...first, id: unpicked, itemId: unpicked.slice(8), periodKey: '2026-02' };
    await writeFile(join(dir, 'sample.json'), JSON.stringify(edited, null, 2));
    const check = await checkSample(dir);
    expect(check.ok).toBe(false);
    expect(check.problems.map((problem) => problem.code)).toContain('selection-altered');
    expect(check.problems.find((p) => p.code === 'selection-altered')?.message).toContain(unpicked);
  });

  it('check rejects a changed seed, a shrunk size and an edited items.jsonl, each by name', async () => {
    const dir = join(work, 'sample-other');
    const { file } = await writeSample(memorySource(objects), request(), dir);
    const original = await readFile(join(dir, 'sample.json'), 'utf8');

    await writeFile(join(dir, 'sample.json'), JSON.stringify({ ...file, seed: 'chosen-by-the-company' }));
    expect((await checkSample(dir)).problems.map((p) => p.code)).toContain('selection-altered');

    await writeFile(
      join(dir, 'sample.json'),
      JSON.stringify({ ...file, size: { ...file.size, n: 3 }, selected: file.selected.slice(0, 3) }),
    );
    expect((await checkSample(dir)).problems.map((p) => p.code)).toEqual(
      expect.arrayContaining(['size-altered', 'selection-altered']),
    );

    await writeFile(join(dir, 'sample.json'), original);
    const items = await readFile(join(dir, 'items.jsonl'), 'utf8');
    await writeFile(join(dir, 'items.jsonl'), items.replace('"dormant":true', '"dormant":false'));
    expect((await checkSample(dir)).problems.map((p) => p.code)).toEqual(['items-altered']);
  });

  it('check rejects a changed population line with population-altered, naming the population', async () => {
    const dir = join(work, 'sample-population');
    const { result } = await writeSample(memorySource(objects), request(), dir);
    const key = result.sources[1]?.populationKey ?? '';
    const body = await readFile(join(dir, key), 'utf8');
    await writeFile(join(dir, key), body.replace('"dormant":false', '"dormant":true'));
    const check = await checkSample(dir);
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([
      expect.objectContaining({ code: 'population-altered', message: expect.stringContaining('2026-02') }),
    ]);
  });

  it('refuses to draw from a population whose manifest signature does not hold', async () => {
    const tampered = new Map(objects);
    const manifestKey = [...tampered.keys()].find(
      (key) => key.includes('/2026-01/') && key.endsWith('manifest.json'),
    );
    if (!manifestKey) throw new Error('no manifest');
    tampered.set(
      manifestKey,
      Buffer.from(
        (tampered.get(manifestKey) ?? Buffer.alloc(0)).toString().replace('"rows":40', '"rows":39'),
      ),
    );
    await expect(drawSample(memorySource(tampered), request())).rejects.toMatchObject({
      code: 'signature-invalid',
    });
  });

  it('refuses a range with no run and a population the runs did not write', async () => {
    await expect(
      drawSample(memorySource(objects), request({ from: '2025-01-01', to: '2025-12-31' })),
    ).rejects.toMatchObject({
      code: 'no-runs',
    });
    await expect(
      drawSample(memorySource(objects), request({ population: 'accounts-removed' })),
    ).rejects.toMatchObject({
      code: 'population-missing',
    });
  });

  it('selects the same items whatever order the population was written in (property)', async () => {
    const items = accounts('2026-01', 30);
    const reference = await drawFrom(items);
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length }),
        async (shuffled) => {
          const again = await drawFrom(shuffled);
          expect(again).toEqual(reference);
        },
      ),
      { numRuns: NUM_RUNS, seed: SEED },
    );
  });
});

/** One signed monthly run whose population holds `items` in the given order; the ids it selects. */
async function drawFrom(items: readonly { id: string }[]): Promise<string[]> {
  const store = makeMemoryObjectStore();
  const recorder = makeEvidenceRecorder({
    store,
    populationStore: store,
    signer: makeLocalSigner(),
    chain: makeMemoryChainHeads(),
  });
  const run = runResult({ controlId: SAMPLED_CONTROL, cadence: 'monthly', periodKey: '2026-01' });
  const session = recorder.openPopulations?.(run, [FLAGGED]);
  if (!session) throw new Error('no population sink');
  await session.sink.write(
    FLAGGED,
    { source: 'api', service: 't', operation: 't', request: null, executedAt: run.finishedAt },
    items,
  );
  await recorder.record({ ...run, populations: session.close() });
  const result = await drawSample(memorySource(store.objects), request({ to: '2026-01-31' }));
  return result.selected.map((item) => item.id);
}

describe('sample sizes', () => {
  const table = sampleSizeTable(undefined);
  it.each([
    [0, 0],
    [4, 4],
    [5, 5],
    [6, 5],
    [50, 5],
    [51, 6],
    [250, 25],
    [251, 25],
    [1_000_000, 25],
  ])('a population of %i items gives a sample of %i', (count, size) => {
    expect(sampleSizeFor(count, table, { kind: 'population' }).size).toBe(size);
  });
  it.each([
    ['annual', 1],
    ['quarterly', 2],
    ['monthly', 2],
    ['weekly', 5],
    ['daily', 25],
  ] as const)('a %s control samples %i runs', (cadence, size) => {
    expect(sampleSizeFor(400, table, { kind: 'frequency', cadence }).size).toBe(size);
  });
});
