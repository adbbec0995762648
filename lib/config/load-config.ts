import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument, type YAMLError } from 'yaml';
import { formatIssue } from '../shared/parse.ts';
import { type Config, configSchema } from './schema.ts';

export const DEFAULT_CONFIG_PATH = 'soc2-evidence.yaml';

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

export function parseConfigYaml(text: string, source = 'config'): Config {
  return parseConfig(parseYamlDocument(text, source), source);
}

/** `YAML line 3, column 7: Map keys must be unique`, without the library's source excerpt. */
function formatYamlError(error: YAMLError): string {
  const position = error.linePos?.[0];
  const where = position ? ` line ${position.line}, column ${position.col}` : '';
  const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return `YAML${where}: ${message}`;
}

function parseYamlDocument(text: string, source: string): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(source, document.errors.map(formatYamlError), { cause: document.errors[0] });
  }
  return document.toJS();
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      path,
      [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`],
      {
        cause: error,
      },
    );
  }
}

/**
 * Reads the YAML config. `riskRegister` may be inline or a path (relative to the config file) to a
 * YAML file of its own, so risk owners can review the register apart from the control definitions.
 */
export async function loadConfig(path = DEFAULT_CONFIG_PATH): Promise<Config> {
  const raw = parseYamlDocument(await readText(path), path);
  if (
    raw &&
    typeof raw === 'object' &&
    typeof (raw as { riskRegister?: unknown }).riskRegister === 'string'
  ) {
    const registerPath = resolve(dirname(path), (raw as { riskRegister: string }).riskRegister);
    (raw as { riskRegister: unknown }).riskRegister = parseYamlDocument(
      await readText(registerPath),
      registerPath,
    );
  }
  return parseConfig(raw, path);
}
