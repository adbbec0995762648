import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AssetHashType, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** What `scripts/bundle-function.mjs` takes (as one JSON argument). */
export interface BundleFunctionOptions {
  /** Repository root: esbuild resolves from here. */
  readonly projectRoot: string;
  /** Absolute path of the handler's TypeScript entry. */
  readonly entry: string;
  /** esbuild target, e.g. `node24`. */
  readonly target: string;
  /** Modules left out of the bundle. */
  readonly external: readonly string[];
  /** Compile-time constants (esbuild `define`). */
  readonly define: Readonly<Record<string, string>>;
  /** Module substitutions (esbuild `alias`), to absolute paths. */
  readonly alias: Readonly<Record<string, string>>;
}

export class FunctionBundlingError extends Error {
  override name = 'FunctionBundlingError';
}

/**
 * Bundles on this machine (no Docker) with esbuild's API, through `scripts/bundle-function.mjs`:
 * code splitting and the SDK schema plugin, neither of which `NodejsFunction`'s command line can do.
 */
class LocalEsbuild implements ILocalBundling {
  constructor(private readonly options: BundleFunctionOptions) {}

  tryBundle(outputDir: string): boolean {
    const script = join(this.options.projectRoot, 'scripts', 'bundle-function.mjs');
    const result = spawnSync(
      process.execPath,
      [script, JSON.stringify({ ...this.options, outdir: outputDir })],
      {
        cwd: this.options.projectRoot,
        stdio: ['ignore', 'inherit', 'pipe'],
        encoding: 'utf8',
      },
    );
    if (result.stderr) process.stderr.write(result.stderr);
    if (result.error || result.status !== 0) {
      throw new FunctionBundlingError(
        `bundling ${this.options.entry} failed (exit ${result.status ?? 'none'}): ${result.stderr?.trim() ?? ''}`,
        { cause: result.error },
      );
    }
    return true;
  }
}

/**
 * The function's code asset: `index.mjs` (handler `index.handler`), the chunks it imports and their
 * source maps, hashed by output like `NodejsFunction`'s assets. Local bundling always succeeds or
 * throws, so the Docker image named here is never pulled.
 */
export function bundledFunctionCode(options: BundleFunctionOptions): lambda.Code {
  return lambda.Code.fromAsset(options.projectRoot, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
      local: new LocalEsbuild(options),
    },
  });
}
