/**
 * `npm run bench`: runs every bench/*.ts except this file, one after another (benchmarks share
 * two cores; running them together would measure each other). A new bench joins by existing.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

const here = import.meta.dirname;
const self = basename(import.meta.filename);
const only = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((name) => name.endsWith('.ts') && name !== self && !name.endsWith('.d.ts'))
  .filter((name) => only.length === 0 || only.some((wanted) => name.includes(wanted)))
  .sort();

if (benches.length === 0) {
  console.error(only.length ? `no bench matches ${only.join(', ')}` : 'no benchmarks in bench/');
  process.exit(2);
}

const failed: string[] = [];
for (const name of benches) {
  console.log(`\n=== bench/${name}`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, name)], { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    console.log(`=== bench/${name} finished in ${seconds} s`);
  } else {
    failed.push(name);
    console.log(`=== bench/${name} FAILED after ${seconds} s (exit ${result.status ?? result.signal})`);
  }
}
console.log(
  `\n${benches.length - failed.length} benchmarks finished, ${failed.length} failed${failed.length ? `: ${failed.join(', ')}` : ''}`,
);
process.exit(failed.length ? 1 : 0);
