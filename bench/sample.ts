/**
 * `soc2-evidence sample` on a 1,000,000-item signed population: wall time and peak RSS of the CLI
 * process (`/usr/bin/time -v`), against a baseline measured in the same run on the same file:
 * `sha256sum` of the population (a plain streamed read and hash). The sample streams the file
 * once: it hashes it, parses each line's id, ranks it by HMAC-SHA256 and copies the file into the
 * sample folder; memory holds the N selected items and one chunk.
 *
 * Run: `node --import tsx bench/sample.ts`. BENCH_ITEMS (default 1000000).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMemoryChainHeads } from '../lib/evidence/chain-head-store.ts';
import { makeLocalSigner } from '../lib/evidence/local-signer.ts';
import { makeEvidenceRecorder, makeMemoryObjectStore } from '../lib/evidence/record-evidence.ts';
import { syncTo } from '../test/audit/sample-fixture.ts';
import { runResult } from '../test/verify/evidence-fixture.ts';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 1_000_000);
const ROOT = join(import.meta.dirname, '..');
const declaration = { name: 'required-action-events', description: 'an admin_export event' } as const;

function* events() {
  const start = Date.parse('2026-01-01T00:00:00Z');
  for (let n = 0; n < ITEMS; n += 1) {
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

function measure(command: string, args: readonly string[]): { seconds: number; peakMb: number } {
  try {
    execFileSync('/usr/bin/time', ['-v', '-o', join(work, 'time.txt'), command, ...args], {
      cwd: ROOT,
      stdio: 'ignore',
    });
  } catch {
    // Non-zero exits are reported by the caller's checks; the timing file is still written.
  }
  const report = execFileSync('cat', [join(work, 'time.txt')], { encoding: 'utf8' });
  const elapsed = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)/.exec(
    report,
  );
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  const seconds = elapsed
    ? Number(elapsed[1] ?? 0) * 3600 + Number(elapsed[2]) * 60 + Number(elapsed[3])
    : Number.NaN;
  return { seconds, peakMb: rss ? Number(rss[1]) / 1024 : Number.NaN };
}

const work = mkdtempSync(join(tmpdir(), 'soc2-bench-sample-'));
try {
  const store = makeMemoryObjectStore();
  const recorder = makeEvidenceRecorder({
    store,
    populationStore: store,
    signer: makeLocalSigner(),
    chain: makeMemoryChainHeads(),
  });
  const run = runResult({ controlId: 'audit-log', cadence: 'annual', periodKey: '2026' });
  const session = recorder.openPopulations?.(run, [declaration]);
  if (!session) throw new Error('no population sink');
  const written = await session.sink.write(
    declaration,
    {
      source: 'api',
      service: 'bench',
      operation: 'generated',
      request: { items: ITEMS },
      executedAt: run.finishedAt,
    },
    events(),
  );
  await recorder.record({ ...run, populations: session.close() });
  const evidence = join(work, 'evidence');
  await syncTo(store.objects, evidence);
  store.objects.clear();
  const population = join(evidence, written.key.replace(/^evidence\//, ''));
  const bytes = statSync(population).size;

  const baseline = measure('sha256sum', [population]);
  const startup = measure(process.execPath, [join(ROOT, 'bin', 'soc2-evidence.mjs'), 'sample', '--help']);
  const out = join(work, 'sample');
  const sample = measure(process.execPath, [
    join(ROOT, 'bin', 'soc2-evidence.mjs'),
    'sample',
    '--source',
    evidence,
    '--control',
    'audit-log',
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
  ]);
  const check = measure(process.execPath, [join(ROOT, 'bin', 'soc2-evidence.mjs'), 'sample', '--check', out]);
  const confirmed = execFileSync(
    process.execPath,
    [join(ROOT, 'bin', 'soc2-evidence.mjs'), 'sample', '--check', out],
    { cwd: ROOT, encoding: 'utf8' },
  );
  console.log(
    `population: ${ITEMS.toLocaleString('en')} items, ${(bytes / 1024 / 1024).toFixed(1)} MB JSON Lines`,
  );
  console.log(
    `CLI start-up (sample --help): ${startup.seconds.toFixed(2)} s, peak RSS ${startup.peakMb.toFixed(1)} MB`,
  );
  console.log(
    `baseline sha256sum:  ${baseline.seconds.toFixed(2)} s, peak RSS ${baseline.peakMb.toFixed(1)} MB`,
  );
  console.log(
    `sample (draw):       ${sample.seconds.toFixed(2)} s, peak RSS ${sample.peakMb.toFixed(1)} MB  (x${(sample.seconds / baseline.seconds).toFixed(1)} the baseline's time)`,
  );
  console.log(
    `sample --check:      ${check.seconds.toFixed(2)} s, peak RSS ${check.peakMb.toFixed(1)} MB  (x${(check.seconds / baseline.seconds).toFixed(1)})`,
  );
  console.log(confirmed.trim());
} finally {
  rmSync(work, { recursive: true, force: true });
}
