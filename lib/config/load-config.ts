import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument, type YAMLError } from 'yaml';
import { ConfigError, parseConfig } from './parse-config.ts';
import type { Config } from './schema.ts';

// Validation lives in parse-config.ts so the Lambda bundles (embedded config) carry no YAML parser.
export { ConfigError, parseConfig };

export const DEFAULT_CONFIG_PATH = 'soc2-evidence.yaml';

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
