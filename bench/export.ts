/**
 * Export at scale: evidence written by the real recorder (manifests signed, chained) into fauxqs,
 * then, each in its own process so peak RSS is the exporter's alone and nothing else shares it:
 *   (a) baseline: a plain loop of ListObjectsV2 + GetObject reading every object's body;
 *   (e) `exportArchive` streaming the same objects into one zip on disk (deflate, plus index.html,
 *       OSCAL and VERIFY.md).
 * Reported: objects/s and MB/s of each, the ratio e/a (target >= 0.7x), and the exporter's peak
 * RSS at two object counts (target < 250 MB, flat in the count). fauxqs runs in a separate process
 * (it keeps objects in memory, which would otherwise count against the exporter).
 *
 * Run: `npm run bench -- export` or `node --import tsx bench/export.ts`.
 * BENCH_OBJECTS (default "2000,10000,30000") lists the object counts; BENCH_ARTIFACT_KB (default 8) sizes
 * each run's result.json.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { makeS3EvidenceReader } from '../lib/adapters/s3/s3-evidence-reader.ts';
import { makeS3EvidenceRecorder } from '../lib/adapters/s3/s3-evidence-recorder.ts';
import { makeMemoryChainHeads } from '../lib/evidence/chain-head-store.ts';
import { makeLocalSigner } from '../lib/evidence/local-signer.ts';
import { exportArchive } from '../lib/export/export-archive.ts';
import { nextPeriod, periodFromKey } from '../lib/shared/period.ts';
import { syntheticRun } from './support/synthetic-run.ts';

const MB = 1024 * 1024;
const BUCKET = 'bench-evidence';
const COUNTS = (process.env.BENCH_OBJECTS ?? '2000,10000,30000').split(',').map(Number);
const ARTIFACT_KB = Number(process.env.BENCH_ARTIFACT_KB ?? 8);

interface WorkerReport {
  readonly ms: number;
  readonly objects: number;
  readonly bytes: number;
  readonly maxRssMb: number;
  readonly archiveBytes?: number;
}

function s3For(endpoint: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

const FAUXQS = `
import { startFauxqs } from 'fauxqs';
const server = await startFauxqs({ port: 0, logger: false, defaultRegion: 'us-east-1' });
process.stdout.write(JSON.stringify({ address: server.address }) + '\\n');
process.stdin.resume();
process.stdin.on('end', () => server.stop().then(() => process.exit(0)));
`;

async function startFauxqsProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', FAUXQS], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
  });
  return { endpoint: (JSON.parse(line) as { address: string }).address, child };
}

/** Writes `objects` evidence objects (3 per run: result.json, manifest.json, manifest.sig). */
async function seed(endpoint: string, bucket: string, objects: number): Promise<void> {
  const s3 = s3For(endpoint);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const recorder = makeS3EvidenceRecorder({
    s3,
    bucket,
    signer: makeLocalSigner(),
    chain: makeMemoryChainHeads(),
  });
  const runs = Math.ceil(objects / 3);
  // Daily controls, each a year long, as many as the count needs (a full year leaves no gaps).
  const controls = Math.ceil(runs / 365);
  const perControl = Math.ceil(runs / controls);
  let index = 0;
  await Promise.all(
    Array.from({ length: controls }, async (_, c) => {
      let period = periodFromKey('daily', '2026-01-01', 'UTC');
      for (let i = 0; i < perControl && c * perControl + i < runs; i += 1) {
        index += 1;
        await recorder.record(
          syntheticRun(`control-${String(c).padStart(2, '0')}`, period.key, index, ARTIFACT_KB),
        );
        period = nextPeriod(period);
      }
    }),
  );
  s3.destroy();
}

function runWorker(
  mode: 'baseline' | 'export',
  endpoint: string,
  bucket: string,
  out: string,
): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', import.meta.filename, '--worker', mode, endpoint, bucket, out],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(output) as WorkerReport)
        : reject(new Error(`${mode} worker exited ${code}`)),
    );
  });
}

async function baselineWorker(endpoint: string, bucket: string): Promise<WorkerReport> {
  const s3 = s3For(endpoint);
  const started = performance.now();
  let objects = 0;
  let bytes = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'evidence/', ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const result = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      for await (const chunk of result.Body as AsyncIterable<Buffer>) bytes += chunk.length;
      objects += 1;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const ms = performance.now() - started;
  return { ms, objects, bytes, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

async function exportWorker(endpoint: string, bucket: string, out: string): Promise<WorkerReport> {
  const s3 = s3For(endpoint);
  const started = performance.now();
  const result = await exportArchive({
    reader: makeS3EvidenceReader(s3, bucket),
    bucket,
    range: { from: '2026-01-01', to: '2026-12-31' },
    output: createWriteStream(out),
    clock: () => new Date('2027-01-02T00:00:00Z'),
    ...(process.env.BENCH_LEVEL ? { compressionLevel: Number(process.env.BENCH_LEVEL) } : {}),
    ...(process.env.BENCH_CONCURRENCY ? { concurrency: Number(process.env.BENCH_CONCURRENCY) } : {}),
  });
  const ms = performance.now() - started;
  return {
    ms,
    objects: result.evidenceObjects,
    bytes: result.evidenceBytes,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    archiveBytes: (await stat(out)).size,
  };
}

const rate = (report: WorkerReport) =>
  `${Math.round(report.objects / (report.ms / 1000)).toLocaleString('en-US')} objects/s, ${(report.bytes / MB / (report.ms / 1000)).toFixed(1)} MB/s`;

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'soc2-bench-export-'));
  const fauxqs = await startFauxqsProcess();
  const results: string[] = [];
  let ok = true;
  try {
    for (const count of COUNTS) {
      const bucket = `${BUCKET}-${count}`;
      const seeded = performance.now();
      await seed(fauxqs.endpoint, bucket, count);
      console.log(
        `seeded ${count.toLocaleString('en-US')} evidence objects in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
      );
      // Warm-up, then best of two of each, alternating so neither gets a systematically warmer server.
      await runWorker('baseline', fauxqs.endpoint, bucket, '');
      const baselines: WorkerReport[] = [];
      const exports: WorkerReport[] = [];
      for (let round = 0; round < 2; round += 1) {
        baselines.push(await runWorker('baseline', fauxqs.endpoint, bucket, ''));
        exports.push(await runWorker('export', fauxqs.endpoint, bucket, join(work, `export-${count}.zip`)));
      }
      const baseline = baselines.reduce((a, b) => (b.ms < a.ms ? b : a));
      const exported = exports.reduce((a, b) => (b.ms < a.ms ? b : a));
      const peakRss = Math.max(...exports.map((report) => report.maxRssMb));
      const ratio = baseline.ms / (exported.ms * (baseline.objects / exported.objects));
      console.log(
        `  (a) GetObject loop : peak RSS ${baseline.maxRssMb.toFixed(0)} MB, ${baseline.objects} objects, ${(baseline.bytes / MB).toFixed(1)} MB in ${(baseline.ms / 1000).toFixed(2)} s (${rate(baseline)})`,
      );
      console.log(
        `  (e) export zip    : ${exported.objects} objects, ${(exported.bytes / MB).toFixed(1)} MB in ${(exported.ms / 1000).toFixed(2)} s (${rate(exported)}); archive ${((exported.archiveBytes ?? 0) / MB).toFixed(1)} MB; peak RSS ${peakRss.toFixed(0)} MB`,
      );
      console.log(
        `  ratio e/a (per object): ${ratio.toFixed(2)}x (target >= 0.7x); peak RSS ${peakRss.toFixed(0)} MB (target < 250 MB)`,
      );
      results.push(
        `${count.toLocaleString('en-US')} objects: export ${ratio.toFixed(2)}x the GetObject loop, peak RSS ${peakRss.toFixed(0)} MB`,
      );
      ok &&= ratio >= 0.7 && peakRss < 250;
    }
    console.log(`\nsummary: ${results.join('; ')}: ${ok ? 'targets met' : 'TARGET MISSED'}`);
  } finally {
    fauxqs.child.stdin?.end();
    await new Promise((resolve) => fauxqs.child.once('exit', resolve));
    await rm(work, { recursive: true, force: true });
  }
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[2] === '--worker') {
  const [, , , mode, endpoint = '', bucket = '', out = ''] = process.argv;
  const report =
    mode === 'export' ? await exportWorker(endpoint, bucket, out) : await baselineWorker(endpoint, bucket);
  process.stdout.write(JSON.stringify(report));
  process.exit(0);
} else {
  await main();
}
