/**
 * `soc2-evidence sample` and `sample --check` on a 1,000,000-item signed population: wall time and
 * peak RSS of the CLI process (`/usr/bin/time -v`), against a baseline measured in the same run on
 * the same file: `sha256sum` of the population (a plain streamed read and hash). The sample streams
 * the file once: it hashes it, finds each line's id (a byte scan, no JSON.parse), ranks it by
 * HMAC-SHA256 (keyed once), keeps the N smallest in a heap, and copies the file into the sample
 * folder; memory holds the N selected items and one chunk. Both ways of running the CLI are
 * measured: bundled (dist/cli, what an installed package runs; built here with
 * scripts/build-cli.mjs) and from the checkout (the TypeScript sources through tsx, which adds
 * seconds of start-up). Memory flatness: the bundled draw is measured again on a tenth of the items.
 *
 * Run: `node --import tsx bench/sample.ts`. BENCH_ITEMS (default 1000000).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeMemoryChainHeads } from '../lib/evidence/chain-head-store.ts';
import { makeLocalSigner } from '../lib/evidence/local-signer.ts';
import { makeEvidenceRecorder, makeMemoryObjectStore } from '../lib/evidence/record-evidence.ts';
import { syncTo } from '../test/audit/sample-fixture.ts';
import { runResult } from '../test/verify/evidence-fixture.ts';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 1_000_000);
const ROOT = join(import.meta.dirname, '..');
const CONTROL = 'audit-log';
const declaration = { name: 'required-action-events', description: 'an admin_export event' } as const;

function* events(count: number) {
  const start = Date.parse('2026-01-01T00:00:00Z');
  for (let n = 0; n < count; n += 1) {
    const at = new Date(start + n * 2_600).toISOString();
    yield {
      id: `admin_export|${at}|u${n % 977}|r${n}|1`,
      action: 'admin_export',
      at,
      userId: `u${n % 977}`,
      resourceId: `r${n}`,
      success: true,
    };
  }
}

interface Measured {
  readonly seconds: number;
  /** User + system CPU time: less sensitive than wall time to other processes on a shared machine. */
  readonly cpuSeconds: number;
  readonly peakMb: number;
}

function measure(command: string, args: readonly string[]): Measured {
  try {
    execFileSync('/usr/bin/time', ['-v', '-o', join(work, 'time.txt'), command, ...args], {
      cwd: ROOT,
      stdio: 'ignore',
    });
  } catch {
    // Non-zero exits are reported by the caller's checks; the timing file is still written.
  }
  const report = readFileSync(join(work, 'time.txt'), 'utf8');
  const elapsed = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)/.exec(
    report,
  );
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  const cpu = (label: string) =>
    Number(new RegExp(`${label} time \\(seconds\\): (\\d+(?:\\.\\d+)?)`).exec(report)?.[1]);
  const seconds = elapsed
    ? Number(elapsed[1] ?? 0) * 3600 + Number(elapsed[2]) * 60 + Number(elapsed[3])
    : Number.NaN;
  return {
    seconds,
    cpuSeconds: cpu('User') + cpu('System'),
    peakMb: rss ? Number(rss[1]) / 1024 : Number.NaN,
  };
}

/** Signed evidence of one annual run with a `count`-item population, synced to `dir`; the population's path. */
async function population(count: number, dir: string): Promise<string> {
  const store = makeMemoryObjectStore();
  const recorder = makeEvidenceRecorder({
    store,
    populationStore: store,
    signer: makeLocalSigner(),
    chain: makeMemoryChainHeads(),
  });
  const run = runResult({ controlId: CONTROL, cadence: 'annual', periodKey: '2026' });
  const session = recorder.openPopulations?.(run, [declaration]);
  if (!session) throw new Error('no population sink');
  const written = await session.sink.write(
    declaration,
    {
      source: 'api',
      service: 'bench',
      operation: 'generated',
      request: { items: count },
      executedAt: run.finishedAt,
    },
    events(count),
  );
  await recorder.record({ ...run, populations: session.close() });
  await syncTo(store.objects, dir);
  return join(dir, written.key.replace(/^evidence\//, ''));
}

const work = mkdtempSync(join(tmpdir(), 'soc2-bench-sample-'));
try {
  const evidence = join(work, 'evidence');
  const file = await population(ITEMS, evidence);
  const tenth = join(work, 'evidence-tenth');
  await population(Math.round(ITEMS / 10), tenth);
  const bytes = statSync(file).size;

  // The bundled CLI, as an installed package runs it (bin/soc2-evidence.mjs prefers the sources in a checkout).
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { cwd: ROOT, stdio: 'ignore' });
  const runner = join(work, 'bundled-cli.mjs');
  writeFileSync(
    runner,
    `const { main } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'cli', 'main.mjs')).href)});\nprocess.exit(await main(process.argv.slice(2)));\n`,
  );
  const clis = {
    bundled: [runner],
    checkout: [join(ROOT, 'bin', 'soc2-evidence.mjs')],
  } as const;
  const drawArgs = (source: string, out: string) => [
    'sample',
    '--source',
    source,
    '--control',
    CONTROL,
    '--population',
    declaration.name,
    '--from',
    '2026-01-01',
    '--to',
    '2026-12-31',
    '--seed',
    'bench-seed',
    '--out',
    out,
  ];

  const baseline = measure('sha256sum', [file]);
  const ratio = (m: Measured) => `x${(m.seconds / baseline.seconds).toFixed(1)}`;
  const cpuRatio = (m: Measured) => `x${(m.cpuSeconds / baseline.cpuSeconds).toFixed(1)}`;
  const row = (label: string, m: Measured, extra = '') =>
    console.log(
      `${label.padEnd(34)} wall ${m.seconds.toFixed(2).padStart(6)} s ${ratio(m).padStart(6)}  cpu ${m.cpuSeconds.toFixed(2).padStart(6)} s ${cpuRatio(m).padStart(6)}  peak RSS ${m.peakMb.toFixed(1).padStart(6)} MB${extra}`,
    );
  console.log(
    `population: ${ITEMS.toLocaleString('en')} items, ${(bytes / 1024 / 1024).toFixed(1)} MB JSON Lines`,
  );
  row('baseline sha256sum', baseline);
  const outputs: string[] = [];
  for (const [name, cli] of Object.entries(clis)) {
    const out = join(work, `sample-${name}`);
    const startup = measure(process.execPath, [...cli, 'sample', '--help']);
    const draw = measure(process.execPath, [...cli, ...drawArgs(evidence, out)]);
    const check = measure(process.execPath, [...cli, 'sample', '--check', out]);
    row(`${name}: start-up (sample --help)`, startup);
    row(
      `${name}: sample (draw)`,
      draw,
      `  (${(draw.seconds - startup.seconds).toFixed(2)} s after start-up)`,
    );
    row(
      `${name}: sample --check`,
      check,
      `  (${(check.seconds - startup.seconds).toFixed(2)} s after start-up)`,
    );
    if (name === 'bundled') {
      const small = measure(process.execPath, [...cli, ...drawArgs(tenth, join(work, 'sample-tenth'))]);
      row(`${name}: draw, ${Math.round(ITEMS / 10).toLocaleString('en')} items`, small);
    }
    outputs.push(
      execFileSync(process.execPath, [...cli, 'sample', '--check', out], {
        cwd: ROOT,
        encoding: 'utf8',
      }).trim(),
      readFileSync(join(out, 'sample.json'), 'utf8'),
    );
  }
  if (outputs[1] !== outputs[3]) throw new Error('the bundled and the checkout CLI drew different samples');
  console.log(outputs[0]);
} finally {
  rmSync(work, { recursive: true, force: true });
}
