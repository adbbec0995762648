// Mutation testing of the verdict logic (not part of CI's time budget).
//   npm run mutate                                  every module below
//   npm run mutate -- lib/shared/period.ts          one module (faster; scores per module)
//   SOC2_MUTATE=lib/a.ts,lib/b.ts npm run mutate     the same, from the environment (comma-separated;
//                                                   Stryker's `file:line-line` ranges work in both)
//   SOC2_MUTATE_TESTS=test/risks/heat-map.test.ts   run only these test files (comma-separated globs):
//                                                   faster, and the score is what those tests alone kill
// The run ends with a score per module (killed + timed out over valid mutants, Stryker's definition).
// Stryker 10 declares Node >= 22 and its CLI refuses older versions, but its engine runs on the
// Node 20 this project supports; running this file starts Stryker through its API instead of the CLI.
import { pathToFileURL } from 'node:url';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner', './stryker.sql-ignorer.mjs'],
  ignorers: ['sql-text'],
  // The verdict logic of every control test, the period arithmetic, the risk rules, the Trivy parser.
  // SQL text inside the control modules is not mutated (the `sql-text` ignorer below, and `// Stryker
  // disable` comments around the gap-search builders): the integration and differential suites on
  // real PostgreSQL cover it; the mutation run covers the decisions made on its results.
  mutate: [
    'lib/shared/period.ts',
    'lib/risks/evaluate-register.ts',
    'lib/risks/register-check.ts',
    'lib/risks/heat-map.ts',
    // Residual scoring only (riskScore, residualOf, residualScore); the rest of the file is the zod schema.
    'lib/risks/register-schema.ts:236-253',
    'lib/controls/trivy-report.ts',
    'lib/controls/outcome.ts',
    'lib/controls/evaluation-time.ts',
    // Every registered control test type (lib/controls/registry.ts).
    'lib/controls/log-completeness.ts',
    'lib/controls/secret-rotation.ts',
    'lib/controls/vulnerability-scan.ts',
    'lib/controls/access-review.ts',
    'lib/controls/manual-attestation.ts',
    'lib/controls/schedule-health.ts',
    'lib/controls/restore-verification.ts',
    'lib/controls/restore-test-history.ts',
    'lib/controls/encryption-config.ts',
    'lib/restore/compare-databases.ts',
  ],
  coverageAnalysis: 'perTest',
  // Two shared cores: one mutant at a time.
  concurrency: 1,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'coverage/mutation/index.html' },
  jsonReporter: { fileName: 'coverage/mutation/mutation.json' },
  tempDirName: 'coverage/.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85 },
  ignoreStatic: true,
};
export default config;

/** `killed/valid` as Stryker scores it: killed and timed-out mutants over all but compile/runtime errors and ignored ones. */
function score(results) {
  const killed = results.filter((r) => r.status === 'Killed' || r.status === 'Timeout').length;
  const valid = results.filter(
    (r) => r.status !== 'CompileError' && r.status !== 'RuntimeError' && r.status !== 'Ignored',
  ).length;
  const survived = results.filter((r) => r.status === 'Survived' || r.status === 'NoCoverage').length;
  return `${valid === 0 ? 'n/a' : `${((100 * killed) / valid).toFixed(2)}%`} (${killed}/${valid}, ${survived} surviving)`;
}

async function main(files) {
  const { Stryker } = await import(
    new URL('./node_modules/@stryker-mutator/core/dist/src/stryker.js', import.meta.url).href
  );
  const testFiles = listFromEnv('SOC2_MUTATE_TESTS');
  const results = await new Stryker({
    ...(files.length > 0 ? { mutate: files } : {}),
    ...(testFiles.length > 0 ? { testFiles } : {}),
  }).runMutationTest();
  const byFile = new Map();
  for (const result of results) byFile.set(result.fileName, [...(byFile.get(result.fileName) ?? []), result]);
  for (const [file, fileResults] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${file.replace(`${process.cwd()}/`, '')}: ${score(fileResults)}`);
  }
  console.log(`mutation score ${score(results)}`);
}

/** Modules from the command line, else from SOC2_MUTATE (comma-separated), else every module in `mutate`. */
function requestedModules() {
  const fromArgs = process.argv.slice(2);
  if (fromArgs.length > 0) return fromArgs;
  return listFromEnv('SOC2_MUTATE');
}

function listFromEnv(name) {
  return (process.env[name] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

// Not awaited at the top level: Stryker imports this file for its options while main() runs.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(requestedModules()).catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
