// Mutation testing of the verdict logic (not part of CI's time budget).
//   npm run mutate                                  every module below
//   npm run mutate -- lib/shared/period.ts          one module (faster; scores per module)
// Stryker 10 declares Node >= 22 and its CLI refuses older versions, but its engine runs on the
// Node 20 this project supports; running this file starts Stryker through its API instead of the CLI.
import { pathToFileURL } from 'node:url';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  // The verdict logic of every control test, the period arithmetic, the risk rules, the Trivy parser.
  // SQL text and I/O inside the control modules are fenced off with `// Stryker disable` comments:
  // the integration suites (real PostgreSQL, emulators) cover those, the mutation run covers decisions.
  mutate: [
    'lib/shared/period.ts',
    'lib/risks/evaluate-register.ts',
    'lib/controls/trivy-report.ts',
    'lib/controls/log-completeness.ts',
    'lib/controls/encryption-config.ts',
    'lib/controls/vulnerability-scan.ts',
    'lib/controls/secret-rotation.ts',
    'lib/controls/restore-verification.ts',
    'lib/controls/outcome.ts',
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

async function main(files) {
  const { Stryker } = await import(
    new URL('./node_modules/@stryker-mutator/core/dist/src/stryker.js', import.meta.url).href
  );
  const results = await new Stryker(files.length > 0 ? { mutate: files } : {}).runMutationTest();
  const killed = results.filter((r) => r.status === 'Killed' || r.status === 'Timeout').length;
  const valid = results.filter(
    (r) => r.status !== 'CompileError' && r.status !== 'RuntimeError' && r.status !== 'Ignored',
  ).length;
  console.log(
    `mutation score ${valid === 0 ? 'n/a' : ((100 * killed) / valid).toFixed(2)}% (${killed}/${valid})`,
  );
}

// Not awaited at the top level: Stryker imports this file for its options while main() runs.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
