/** Structured JSON logs (CloudWatch-friendly); a port so tests and the CLI can capture or silence them. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  const emit =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      write(JSON.stringify({ level, message, time: new Date().toISOString(), ...fields }));
  return { info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR') };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
