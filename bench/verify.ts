/**
 * Offline verification at scale. A year of evidence for several daily controls, written to disk the
 * way `aws s3 sync` leaves it (artifacts, signed chained manifests, signatures, the public key), and
 * the same evidence as an exported zip (deflated). In the same run:
 *   (s) baseline: `sha256sum` over every file of the folder (find | xargs, one process per batch):
 *       just hashing the same bytes, no checks;
 *   (f) `soc2-evidence verify` on the folder: every artifact hashed and compared, every manifest
 *       parsed and its signature checked, chains and period coverage, unexpected files;
 *   (z) the same on the zip, inflating every entry as it goes.
 * Each is timed warm (page cache filled by a first run), best of three; verify runs in its own
 * process, timed around the verification only. Reported: MB/s, files/s, ratio f/s and z/s
 * (target >= 0.8x), verify's peak RSS, and CPU time (all threads; steadier than wall time on a
 * shared machine). Then (c): the CLI as a user runs it (`bin/soc2-evidence.mjs verify`, spawned),
 * wall time including node's startup and module loading, and that fixed cost alone (`verify --help`).
 *
 * Run: `npm run bench -- verify` or `node --import tsx bench/verify.ts`.
 * BENCH_OBJECTS (default 10000) and BENCH_ARTIFACT_KB (default 32) size it.
 */

import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { evidenceDocument } from '../lib/adapters/s3/s3-evidence-recorder.ts';
import {
  buildCheckpoint,
  type CheckpointChain,
  checkpointKey,
  checkpointSigningBytes,
  configHash,
  type ListedManifest,
  serializeSignedCheckpoint,
} from '../lib/evidence/checkpoint.ts';
import { publicKeyKey } from '../lib/evidence/evidence-layout.ts';
import { makeLocalSigner } from '../lib/evidence/local-signer.ts';
import { buildManifest, type ChainLink, serializeManifest } from '../lib/evidence/manifest.ts';
import { zipStream } from '../lib/export/zip-writer.ts';
import { sha256Hex } from '../lib/shared/canonical-json.ts';
import { nextPeriod, periodFromKey } from '../lib/shared/period.ts';
import { verifyPath } from '../lib/verify/verify-path.ts';
import { syntheticRun } from './support/synthetic-run.ts';

const MB = 1024 * 1024;
const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 10_000);
const ARTIFACT_KB = Number(process.env.BENCH_ARTIFACT_KB ?? 32);

interface Timing {
  readonly ms: number;
  /** CPU time, user + system, every thread (sha256sum: its processes). */
  readonly cpuMs?: number;
  readonly maxRssMb?: number;
  readonly ok?: boolean;
  readonly files?: number;
}

/** What the recorder writes, straight to disk: `<dir>/<key without evidence/>`. */
async function writeEvidence(dir: string): Promise<{ files: number; bytes: number; asOf: Date }> {
  const signer = makeLocalSigner();
  const { fingerprint, pem } = await signer.publicKey();
  let files = 0;
  let bytes = 0;
  const put = async (key: string, body: Buffer | string) => {
    const path = join(dir, key.slice('evidence/'.length));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
    files += 1;
    bytes += Buffer.byteLength(body);
  };
  await put(publicKeyKey(fingerprint), pem);
  const runs = Math.ceil(OBJECTS / 3);
  const controls = Math.ceil(runs / 365);
  const perControl = Math.ceil(runs / controls);
  let index = 0;
  let lastEnd = Number.POSITIVE_INFINITY;
  const chains = new Map<string, CheckpointChain[]>();
  for (let c = 0; c < controls; c += 1) {
    const controlId = `control-${String(c).padStart(2, '0')}`;
    let period = periodFromKey('daily', '2026-01-01', 'UTC');
    let previous: ChainLink | null = null;
    const added: ListedManifest[] = [];
    for (let i = 0; i < perControl && index < runs; i += 1) {
      index += 1;
      const run = syntheticRun(controlId, period.key, index, ARTIFACT_KB);
      const prefix = `evidence/${controlId}/daily/${period.key}/${run.runId}/`;
      const result = Buffer.from(`${JSON.stringify(evidenceDocument(run), null, 2)}\n`);
      await put(`${prefix}result.json`, result);
      const manifest = serializeManifest(
        buildManifest({
          run,
          timeZone: 'UTC',
          artifacts: [
            {
              key: `${prefix}result.json`,
              size: result.length,
              sha256: sha256Hex(result),
              contentType: 'application/json',
            },
          ],
          sequence: i + 1,
          previous,
          keyFingerprint: fingerprint,
          publicKeyKey: publicKeyKey(fingerprint),
        }),
      );
      const signature = Buffer.from(await signer.sign(manifest)).toString('base64');
      await put(`${prefix}manifest.json`, manifest);
      await put(`${prefix}manifest.sig`, signature);
      previous = {
        sequence: i + 1,
        key: `${prefix}manifest.json`,
        sha256: sha256Hex(manifest),
        signature,
        periodKey: period.key,
      };
      added.push({ sequence: i + 1, key: previous.key, sha256: previous.sha256, periodKey: period.key });
      period = nextPeriod(period);
    }
    const head = added[added.length - 1];
    chains.set(controlId, [{ kind: 'scheduled', cadence: 'daily', head: head ?? null, added }]);
    // The shortest chain sets the check time, so every chain is complete.
    lastEnd = Math.min(
      lastEnd,
      periodFromKey('daily', previous?.periodKey ?? '2026-01-01', 'UTC').end.getTime(),
    );
  }
  // Checked half a day after the last period closed: its run is not yet late.
  const asOf = new Date(lastEnd + 12 * 3_600_000);
  // The system's signed checkpoint an hour before, listing every chain (synced into _checkpoints/).
  const config = {
    timeZone: 'UTC',
    controls: [...chains.keys()].map((id) => ({ id, cadence: 'daily' as const, addedOn: '2026-01-01' })),
  };
  const checkpoint = buildCheckpoint({
    config,
    configSha256: configHash(config),
    writtenAt: new Date(asOf.getTime() - 3_600_000),
    chains,
    keyFingerprint: fingerprint,
    publicKeyKey: publicKeyKey(fingerprint),
  });
  const checkpointSignature = Buffer.from(await signer.sign(checkpointSigningBytes(checkpoint))).toString(
    'base64',
  );
  const key = checkpointKey(new Date(checkpoint.writtenAt));
  await put(
    `evidence/_checkpoints/${key.slice('checkpoints/'.length)}`,
    serializeSignedCheckpoint({ checkpoint, signature: checkpointSignature }),
  );
  return { files, bytes, asOf };
}

async function zipFolder(dir: string, out: string, mtime: Date): Promise<void> {
  const listing = execFileSync('find', [dir, '-type', 'f'], { maxBuffer: 256 * MB })
    .toString()
    .trim()
    .split('\n')
    .sort();
  const { readFile } = await import('node:fs/promises');
  const entries = (function* () {
    for (const path of listing) {
      const relative = path.slice(dir.length + 1);
      const name = relative.startsWith('_checkpoints/')
        ? `checkpoints/${relative.slice('_checkpoints/'.length)}`
        : `evidence/${relative}`;
      yield { name, mtime, open: () => readFile(path) };
    }
  })();
  await pipeline(zipStream(entries, { level: 6 }), createWriteStream(out));
}

function sha256sumFolder(dir: string): Timing {
  const started = performance.now();
  // `times` prints the shell's and then its children's user and system time: 0m0.716s 0m0.357s.
  const times = execFileSync('sh', [
    '-c',
    `find "${dir}" -type f -print0 | xargs -0 sha256sum > /dev/null; times`,
  ]).toString();
  const ms = performance.now() - started;
  const children = times.trim().split('\n').at(-1) ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map(
    ([, minutes, secs]) => Number(minutes) * 60 + Number(secs),
  );
  return { ms, cpuMs: seconds.reduce((sum, value) => sum + value, 0) * 1000 };
}

const CLI = join(import.meta.dirname, '..', 'bin', 'soc2-evidence.mjs');

/** The CLI as a user runs it, spawned; wall time from spawn to exit (startup and module loading included). */
function verifyCli(args: readonly string[]): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, 'verify', ...args], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve({ ms, ok: true });
      else reject(new Error(`soc2-evidence verify ${args.join(' ')} exited ${code}`));
    });
  });
}

function verifyWorker(path: string, asOf: Date): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', import.meta.filename, '--worker', path, asOf.toISOString()],
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
      code === 0 ? resolve(JSON.parse(output) as Timing) : reject(new Error(`verify worker exited ${code}`)),
    );
  });
}

async function best(times: number, run: () => Promise<Timing> | Timing): Promise<Timing> {
  await run(); // warm-up: page cache, code caches
  let fastest: Timing | undefined;
  for (let i = 0; i < times; i += 1) {
    const timing = await run();
    if (!fastest || timing.ms < fastest.ms) fastest = timing;
  }
  return fastest as Timing;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'soc2-bench-verify-'));
  try {
    const folder = join(work, 'evidence');
    const written = await writeEvidence(folder);
    const zip = join(work, 'export.zip');
    await zipFolder(folder, zip, written.asOf);
    const zipBytes = (await stat(zip)).size;
    console.log(
      `evidence: ${written.files.toLocaleString('en-US')} files, ${(written.bytes / MB).toFixed(1)} MB (zip ${(zipBytes / MB).toFixed(1)} MB)`,
    );
    const baseline = await best(3, () => sha256sumFolder(folder));
    const onFolder = await best(3, () => verifyWorker(folder, written.asOf));
    const onZip = await best(3, () => verifyWorker(zip, written.asOf));
    if (!onFolder.ok || !onZip.ok) throw new Error('the benchmark evidence did not verify');
    const rate = (timing: Timing) =>
      `${(written.bytes / MB / (timing.ms / 1000)).toFixed(0)} MB/s, ${Math.round(written.files / (timing.ms / 1000)).toLocaleString('en-US')} files/s`;
    const cpu = (timing: Timing) => `CPU ${((timing.cpuMs ?? 0) / 1000).toFixed(2)} s`;
    console.log(
      `  (s) sha256sum        : ${(baseline.ms / 1000).toFixed(2)} s (${rate(baseline)}); ${cpu(baseline)}`,
    );
    console.log(
      `  (f) verify folder    : ${(onFolder.ms / 1000).toFixed(2)} s (${rate(onFolder)}); ${cpu(onFolder)}; peak RSS ${onFolder.maxRssMb?.toFixed(0)} MB`,
    );
    console.log(
      `  (z) verify zip       : ${(onZip.ms / 1000).toFixed(2)} s (${rate(onZip)}); ${cpu(onZip)}; peak RSS ${onZip.maxRssMb?.toFixed(0)} MB`,
    );
    const asOf = ['--as-of', written.asOf.toISOString()];
    const startup = await best(3, () => verifyCli(['--help']));
    const cliFolder = await best(3, () => verifyCli([folder, ...asOf]));
    const cliZip = await best(3, () => verifyCli([zip, ...asOf]));
    console.log(
      `  (c) CLI, spawned     : folder ${(cliFolder.ms / 1000).toFixed(2)} s, zip ${(cliZip.ms / 1000).toFixed(2)} s, of which node startup and module loading ${(startup.ms / 1000).toFixed(2)} s (\`verify --help\`)`,
    );
    const folderRatio = baseline.ms / onFolder.ms;
    const zipRatio = baseline.ms / onZip.ms;
    const ok = folderRatio >= 0.8 && zipRatio >= 0.8;
    console.log(
      `\nsummary: verify ${folderRatio.toFixed(2)}x sha256sum on a synced folder, ${zipRatio.toFixed(2)}x on the zip (target >= 0.8x): ${ok ? 'targets met' : 'TARGET MISSED'}`,
    );
    process.exitCode = ok ? 0 : 1;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--prepare') {
  // Writes the folder and zip to DIR and keeps them, for profiling one verify by hand:
  // `node --import tsx bench/verify.ts --prepare DIR`, then `--worker DIR/evidence <asOf>`.
  const dir = process.argv[3] ?? '';
  const folder = join(dir, 'evidence');
  const written = await writeEvidence(folder);
  await zipFolder(folder, join(dir, 'export.zip'), written.asOf);
  console.log(written.asOf.toISOString());
} else if (process.argv[2] === '--worker') {
  const path = process.argv[3] ?? '';
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const report = await verifyPath(path, { asOf: new Date(process.argv[4] ?? '') });
  const ms = performance.now() - started;
  const cpuUsed = process.cpuUsage(cpuBefore);
  if (!report.ok) console.error(report.problems.slice(0, 3));
  process.stdout.write(
    JSON.stringify({
      ms,
      cpuMs: (cpuUsed.user + cpuUsed.system) / 1000,
      ok: report.ok,
      files: report.files,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    } satisfies Timing),
  );
  process.exit(0);
} else {
  await main();
}
