import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load-config.ts';
import { runDemo } from '../local/demo/run-demo.ts';
import { exitOnStopRequest } from '../local/stop-signals.ts';
import { type CliIo, cliCommand, EXIT, parseAsOf } from './io.ts';
import { packageFile } from './package-files.ts';

/** The demo's default date: just after November 2026 closes; the demo's year is December 2025 to November 2026. */
export const DEMO_AS_OF = '2026-12-01T00:15:00Z';

export const DEMO_HELP = `Usage: soc2-evidence demo [options]      (what \`npm start\` runs)

Boots everything locally: DynamoDB (dynalite), S3/SNS/SQS (fauxqs) in-process and a throwaway
PostgreSQL (embedded; or the server in DATABASE_URL), seeds a year of demo data with three incidents
(an audit-log gap, an overdue secret, a failed restore), runs every period of the twelve months
before the demo date with the \`run --local --backfill\` code, dispatches the schedules that fire at
the demo date through the real dispatcher -> SQS -> worker code, exports the year for the auditor
(soc2-evidence-demo-export.zip, index.html inside) and verifies it. Prints its run count and time.

Options:
  --as-of DATE    demo date (default: ${DEMO_AS_OF})
  --config PATH   configuration file (default: the example ${DEFAULT_CONFIG_PATH} the demo data is seeded for)
  --keep          leave the services running and print their endpoints
  -h, --help      show this help`;

export const demoCommand = cliCommand({
  help: DEMO_HELP,
  usageErrors: [ConfigError],
  async run(argv, io: CliIo) {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        'as-of': { type: 'string' },
        config: { type: 'string' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      io.stdout(DEMO_HELP);
      return EXIT.ok;
    }
    // The demo seeds data for the example config, so that is its default, wherever it runs from.
    const config = await loadConfig(values.config ?? packageFile(DEFAULT_CONFIG_PATH));
    // Ctrl+C, SIGTERM (to us or only to npm) or the parent exiting stops PostgreSQL, the emulators
    // and drops the demo databases, during the run as well as after it with --keep.
    const stopHandling = exitOnStopRequest({ print: io.stderr });
    const result = await runDemo({
      config,
      asOf: parseAsOf(values['as-of'] ?? DEMO_AS_OF),
      databaseUrl: io.env.DATABASE_URL,
      keep: values.keep,
      print: io.stdout,
    });
    if (result.services) {
      // Stays until a stop request: its handler stops everything and exits the process.
      await new Promise<never>(() => {});
    }
    stopHandling.dispose();
    // The demo data fails on purpose; the demo itself succeeded if every evidence hash held.
    return result.hashMismatches === 0 ? EXIT.ok : EXIT.controlFailed;
  },
});
