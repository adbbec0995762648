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
