import { parseConfig } from './parse-config.ts';
import type { Config } from './schema.ts';

/**
 * In Lambda the validated config is compiled into the bundle by the CDK stack (esbuild `define`):
 * config is code, reviewed in pull requests, pinned per deploy, and not limited by the 4 KB of
 * Lambda environment variables. It is validated again here at cold start.
 */
declare const __SOC2_CONFIG__: unknown;

export class MissingEmbeddedConfigError extends Error {
  override name = 'MissingEmbeddedConfigError';
}

export function embeddedConfig(): Config {
  if (typeof __SOC2_CONFIG__ === 'undefined') {
    throw new MissingEmbeddedConfigError('no configuration was compiled into this bundle (__SOC2_CONFIG__)');
  }
  return parseConfig(__SOC2_CONFIG__, 'embedded configuration');
}
