import type { Config } from './schema.ts';

/**
 * In Lambda the validated config is compiled into the bundle by the CDK stack (esbuild `define`):
 * config is code, reviewed in pull requests, pinned per deploy, and not limited by the 4 KB of
 * Lambda environment variables. What is compiled in is `parseConfig`'s output (defaults filled),
 * validated at synth by the schema bundled in the same build, so it is not parsed again at cold
 * start: that parse cost every function 70-100 ms of CPU and pulled the whole config schema (every
 * control test's params schema, the criteria catalogue, the risk register schema) into bundles that
 * only read a few fields. Only its shape is checked, so a bundle built without the stack fails here.
 */
declare const __SOC2_CONFIG__: unknown;

export class MissingEmbeddedConfigError extends Error {
  override name = 'MissingEmbeddedConfigError';
}

export function embeddedConfig(): Config {
  if (typeof __SOC2_CONFIG__ === 'undefined') {
    throw new MissingEmbeddedConfigError('no configuration was compiled into this bundle (__SOC2_CONFIG__)');
  }
  return assertValidatedConfigShape(__SOC2_CONFIG__);
}

/** The parsed output always has these (the schema requires or defaults them); raw YAML input may not. */
function assertValidatedConfigShape(value: unknown): Config {
  const config = value as Partial<Record<keyof Config, unknown>> | null;
  const missing = (['timeZone', 'owners', 'targets', 'controls', 'evidence'] as const).filter(
    (key) => config === null || typeof config !== 'object' || config[key] === undefined,
  );
  if (missing.length > 0 || !Array.isArray(config?.controls)) {
    throw new MissingEmbeddedConfigError(
      `the configuration compiled into this bundle is not a validated config (missing ${missing.join(', ') || 'controls[]'}); synthesize with the stack`,
    );
  }
  return value as Config;
}
