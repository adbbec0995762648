/** What a CLI command may touch, so commands run the same in the binary and in tests. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const EXIT = { ok: 0, controlFailed: 1, usage: 2 } as const;

export class UsageError extends Error {
  override name = 'UsageError';
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  env: process.env,
};

/** Parses `--as-of`: a date (start of that day, UTC) or a full ISO instant. */
export function parseAsOf(value: string | undefined, now: () => Date = () => new Date()): Date {
  if (value === undefined) return now();
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const date = new Date(text);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new UsageError(`--as-of: expected a date (YYYY-MM-DD) or ISO-8601 instant, got "${value}"`);
  }
  return date;
}

/** An error class a command treats as bad usage or configuration (exit 2, message only). */
export type UsageErrorClass = abstract new (...args: never[]) => Error;

/** `node:util` parseArgs rejects unknown or malformed options with a TypeError carrying this code. */
function isParseArgsError(error: unknown): error is TypeError & { code: string } {
  return error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

/** Bad usage or configuration: a {@link UsageError}, a parseArgs rejection, or one of `extra`. */
export function isUsageError(error: unknown, extra: readonly UsageErrorClass[] = []): error is Error {
  return (
    error instanceof UsageError || isParseArgsError(error) || extra.some((type) => error instanceof type)
  );
}

export interface CommandSpec<Io extends CliIo, Rest extends unknown[]> {
  /** Printed after a parseArgs error, so the user sees the options they got wrong. */
  readonly help: string;
  /** The command's own errors that mean bad usage or configuration, besides {@link UsageError}. */
  readonly usageErrors?: readonly UsageErrorClass[];
  readonly run: (argv: readonly string[], io: Io, ...rest: Rest) => Promise<number>;
}

/**
 * The one mapping from usage errors to exit code 2, for every command: a parseArgs error prints its
 * message and the command's help, any other usage error its message alone. Anything else propagates
 * (the binary prints it and exits 1).
 */
export function cliCommand<Io extends CliIo, Rest extends unknown[]>(
  spec: CommandSpec<Io, Rest>,
): (argv: readonly string[], io: Io, ...rest: Rest) => Promise<number> {
  return async (argv, io, ...rest) => {
    try {
      return await spec.run(argv, io, ...rest);
    } catch (error) {
      if (!isUsageError(error, spec.usageErrors)) throw error;
      io.stderr(isParseArgsError(error) ? `${error.message}\n\n${spec.help}` : error.message);
      return EXIT.usage;
    }
  };
}
