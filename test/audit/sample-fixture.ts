import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import type { EvidenceSource } from '../../lib/audit/sample-source.ts';
import type { PopulationItem } from '../../lib/controls/population.ts';
import { makeMemoryChainHeads } from '../../lib/evidence/chain-head-store.ts';
import { makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import { makeEvidenceRecorder, makeMemoryObjectStore } from '../../lib/evidence/record-evidence.ts';
import { exportArchive } from '../../lib/export/export-archive.ts';
import { runResult } from '../verify/evidence-fixture.ts';

export const SAMPLED_CONTROL = 'access-review';
export const FLAGGED = { name: 'accounts-flagged', description: 'a flagged account' } as const;

/** Items of one period: `count` accounts with stable ids. */
export function accounts(periodKey: string, count: number): PopulationItem[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `user-${String(index).padStart(5, '0')}@example.com`,
    account: `user-${index}`,
    dormant: index % 3 === 0,
    periodKey,
  }));
}

/** Signed evidence of three monthly runs, each with an `accounts-flagged` population, in memory. */
export async function sampledEvidence(counts: readonly number[] = [40, 25, 60]) {
  const store = makeMemoryObjectStore();
  const recorder = makeEvidenceRecorder({
    store,
    populationStore: store,
    signer: makeLocalSigner(),
    chain: makeMemoryChainHeads(),
  });
  const months = ['2026-01', '2026-02', '2026-03'];
  for (const [index, periodKey] of months.entries()) {
    const run = runResult({ controlId: SAMPLED_CONTROL, cadence: 'monthly', periodKey });
    const session = recorder.openPopulations?.(run, [FLAGGED]);
    if (!session) throw new Error('the recorder offers no population sink');
    await session.sink.write(
      FLAGGED,
      {
        source: 'api',
        service: 'test',
        operation: 'fixture',
        request: { periodKey },
        executedAt: run.finishedAt,
      },
      accounts(periodKey, counts[index] ?? 0),
    );
    await recorder.record({ ...run, populations: session.close() });
  }
  return store.objects;
}

/** The objects as a source, like the bucket. */
export function memorySource(objects: ReadonlyMap<string, Buffer>): EvidenceSource {
  const sorted = () => [...objects.keys()].sort();
  return {
    async listFolders() {
      return [];
    },
    async *listObjects(prefix, startAfter) {
      for (const key of sorted())
        if (key.startsWith(prefix) && (startAfter === undefined || key > startAfter))
          yield { key, size: objects.get(key)?.length ?? 0 };
    },
    async getBytes(key) {
      const body = objects.get(key);
      if (!body) throw new Error(`no ${key}`);
      return body;
    },
    async getStream(key) {
      const body = objects.get(key);
      if (!body) throw new Error(`no ${key}`);
      // Small chunks, so lines straddle chunk boundaries.
      const chunks: Buffer[] = [];
      for (let at = 0; at < body.length; at += 777) chunks.push(body.subarray(at, at + 777));
      return Readable.from(chunks);
    },
  };
}

/** Like `aws s3 sync s3://<bucket>/evidence/ DIR`: bucket keys without the `evidence/` prefix. */
export async function syncTo(objects: ReadonlyMap<string, Buffer>, dir: string): Promise<void> {
  for (const [key, body] of objects) {
    const path = join(dir, key.replace(/^evidence\//, ''));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  }
}

/** `soc2-evidence export` of the objects to a zip file. */
export async function exportTo(objects: ReadonlyMap<string, Buffer>, file: string): Promise<void> {
  const { createWriteStream } = await import('node:fs');
  const output = createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    output.on('finish', () => resolve());
    output.on('error', reject);
  });
  const reader = memorySource(objects);
  await exportArchive({
    reader: {
      ...reader,
      async listFolders(prefix) {
        const folders = new Set<string>();
        for (const key of objects.keys()) {
          if (!key.startsWith(prefix)) continue;
          const slash = key.indexOf('/', prefix.length);
          if (slash !== -1) folders.add(key.slice(0, slash + 1));
        }
        return [...folders].sort();
      },
    },
    bucket: 'fixture',
    range: { from: '2026-01-01', to: '2026-03-31' },
    output: output as Writable,
    clock: () => new Date('2026-04-02T00:00:00Z'),
  });
  await done;
}
