/**
 * Lambda bundle size and cold import time, per function, as `cdk synth` bundles them.
 * The app is synthesized once with bundling on (infra/build-app.ts, every optional function turned
 * on); in the same run, an empty handler bundled by the same construct is the baseline. For each
 * bundle: its size (index.mjs, and the source map beside it), and the median over RUNS fresh
 * `node` processes of the time `await import(bundle)` takes, with the environment variables the
 * template declares (references replaced by placeholders; nothing is called at import). Sizes: every
 * `.mjs` file of the asset (the limit applies to this), and what a cold import reads (the entry and
 * the chunks it imports statically; chunks behind `import()` load on first use). Each time
 * is reported twice: wall clock, and the CPU time the process spent in the import (user + system,
 * `process.cpuUsage`), which a loaded machine inflates far less than wall clock; the load average
 * is printed before and after. The SDK's Node-version notice is turned off as on nodejs24.x, where
 * it is never printed (printing it costs the import a stack trace on this machine's Node 20).
 * Targets: <= 1 MB (stretch 500 KB), cold import <= 200 ms (stretch 100 ms) on our 2-core machine.
 *
 * Run: `npm run bench -- bundles` or `node --import tsx bench/bundles.ts`. BENCH_RUNS (default 9).
 */

import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type BundledFunction,
  REPO_ROOT,
  synthesizeApp,
  synthesizeEmptyHandler,
  type TemplateValue,
} from '../test/deployed/support/synthesized-app.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const KB = 1024;
const MB = 1024 * 1024;

/** Placeholders for references: importing a bundle reads env vars but calls no AWS API. */
function placeholderEnv(environment: Readonly<Record<string, TemplateValue>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    env[name] =
      typeof value === 'string'
        ? value
        : name.endsWith('_URL')
          ? 'https://sqs.us-east-1.amazonaws.com/123456789012/placeholder.fifo'
          : name.endsWith('_ARN') || name.endsWith('_KEY_ID')
            ? 'arn:aws:kms:us-east-1:123456789012:key/placeholder'
            : 'placeholder';
  }
  return env;
}

interface ImportTime {
  /** Wall clock of `await import(bundle)`. */
  readonly ms: number;
  /** CPU (user + system) the process spent meanwhile. */
  readonly cpuMs: number;
}

/** One fresh process: how long `import()` of the bundle takes (module evaluation included). */
function coldImport(fn: BundledFunction, extraEnv: Record<string, string> = {}): ImportTime {
  const probe = [
    'const cpu = process.cpuUsage();',
    'const started = performance.now();',
    `const module = await import(${JSON.stringify(pathToFileURL(fn.bundle).href)});`,
    'const ms = performance.now() - started;',
    'const used = process.cpuUsage(cpu);',
    "if (typeof module.handler !== 'function') throw new Error('no handler export');",
    "console.log(ms.toFixed(2) + ' ' + ((used.user + used.system) / 1000).toFixed(2));",
  ].join('\n');
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: join(fn.bundle, '..'),
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...placeholderEnv(fn.environment),
      ...extraEnv,
    },
    encoding: 'utf8',
  });
  const [ms, cpuMs] = (out.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { ms: ms ?? Number.NaN, cpuMs: cpuMs ?? Number.NaN };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

interface Row {
  readonly name: string;
  /** Every `.mjs` file of the asset. */
  readonly bytes: number;
  /** What a cold import reads: the entry and its static imports. */
  readonly startBytes: number;
  readonly mapBytes: number;
  readonly importMs: number;
  readonly importCpuMs: number;
  /** The same with NODE_OPTIONS=--enable-source-maps: what loading the source map at start costs. */
  readonly importWithMapsMs: number;
  readonly runtime: string;
  readonly nodeOptions: string;
}

/** Every source map of the asset (entry and chunks). */
function sourceMapBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce(
    (sum, entry) =>
      sum +
      (entry.isDirectory()
        ? sourceMapBytes(join(dir, entry.name))
        : entry.name.endsWith('.map')
          ? statSync(join(dir, entry.name)).size
          : 0),
    0,
  );
}

function measure(fn: BundledFunction): Row {
  coldImport(fn); // page cache warm-up, not counted
  const times = Array.from({ length: RUNS }, () => coldImport(fn));
  const withMaps = Array.from({ length: Math.max(3, Math.floor(RUNS / 2)) }, () =>
    coldImport(fn, { NODE_OPTIONS: '--enable-source-maps' }),
  );
  return {
    name: fn.name,
    bytes: fn.bundleBytes,
    startBytes: fn.startBytes,
    mapBytes: sourceMapBytes(dirname(fn.bundle)),
    importMs: median(times.map((time) => time.ms)),
    importCpuMs: median(times.map((time) => time.cpuMs)),
    importWithMapsMs: median(withMaps.map((time) => time.ms)),
    runtime: fn.runtime,
    nodeOptions: typeof fn.environment.NODE_OPTIONS === 'string' ? fn.environment.NODE_OPTIONS : '',
  };
}

const { loadavg } = await import('node:os');
const load = loadavg()[0]?.toFixed(1);
const started = Date.now();
const synthesized = await synthesizeApp({}, { restoreValidation: true });
const baselineApp = synthesizeEmptyHandler();
const synthMs = Date.now() - started;
try {
  const baseline = measure(baselineApp.fn);
  const rows = synthesized.functions.map(measure);
  console.log(
    `synthesized ${synthesized.functions.length} functions + baseline in ${(synthMs / 1000).toFixed(1)} s; ` +
      `median of ${RUNS} fresh processes each; node ${process.version}; ${rows[0]?.runtime ?? ''}; load average ${load}`,
  );
  const header = [
    'function',
    'all .mjs',
    'read at start',
    'x baseline',
    '.map',
    'cold import',
    'x baseline',
    'CPU',
    'x baseline',
    'with source maps',
    'template NODE_OPTIONS',
  ];
  const table = [
    header,
    [
      '(baseline: empty handler)',
      `${(baseline.bytes / KB).toFixed(1)} KB`,
      `${(baseline.startBytes / KB).toFixed(1)} KB`,
      '1.0',
      `${(baseline.mapBytes / KB).toFixed(0)} KB`,
      `${baseline.importMs.toFixed(1)} ms`,
      '1.0',
      `${baseline.importCpuMs.toFixed(1)} ms`,
      '1.0',
      `${baseline.importWithMapsMs.toFixed(1)} ms`,
      baseline.nodeOptions,
    ],
    ...rows.map((row) => [
      row.name,
      `${(row.bytes / KB).toFixed(1)} KB`,
      `${(row.startBytes / KB).toFixed(1)} KB`,
      (row.startBytes / baseline.startBytes).toFixed(0),
      `${(row.mapBytes / KB).toFixed(0)} KB`,
      `${row.importMs.toFixed(1)} ms`,
      (row.importMs / baseline.importMs).toFixed(1),
      `${row.importCpuMs.toFixed(1)} ms`,
      (row.importCpuMs / baseline.importCpuMs).toFixed(1),
      `${row.importWithMapsMs.toFixed(1)} ms`,
      row.nodeOptions,
    ]),
  ];
  const widths = header.map((_, column) => Math.max(...table.map((line) => (line[column] ?? '').length)));
  for (const line of table)
    console.log(line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  '));
  const over = rows.filter((row) => row.bytes > MB || row.importMs > 200);
  console.log(
    over.length === 0
      ? 'targets met: every bundle <= 1 MB and cold import <= 200 ms'
      : `targets missed: ${over.map((row) => row.name).join(', ')} (> 1 MB or > 200 ms)`,
  );
  console.log(`load average at the end ${loadavg()[0]?.toFixed(1)}; repository: ${REPO_ROOT}`);
} finally {
  rmSync(synthesized.outdir, { recursive: true, force: true });
  rmSync(baselineApp.outdir, { recursive: true, force: true });
}
