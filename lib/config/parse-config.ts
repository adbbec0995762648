import { formatIssue } from '../shared/parse.ts';
import { type Config, configSchema } from './schema.ts';

/** The config is unusable; `issues` name each bad field by its path. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly issues: readonly string[],
    options?: ErrorOptions,
  ) {
    super(
      `invalid configuration in ${source}:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`,
      options,
    );
  }
}

/** Validates an already-parsed object (from YAML, JSON or a test) against the one config schema. */
export function parseConfig(raw: unknown, source = 'config'): Config {
  if (raw === null || raw === undefined) {
    throw new ConfigError(source, [
      '(root): the configuration is empty; expected owners, targets and controls',
    ]);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(source, result.error.issues.map(formatIssue));
  return result.data;
}
