#!/usr/bin/env node
// Bundles one Lambda handler for the CDK stack (infra/constructs/soc2-function.ts runs this script
// from its local bundling, synchronously, once per function). Run as a child process because
// esbuild plugins need esbuild's asynchronous API, and CDK's local bundling is synchronous.
//
// What this adds over `NodejsFunction`'s esbuild command line, each measured by bench/bundles.ts
// (figures in docs/infra.md):
// - Code splitting: an `import()` in the sources (pg in the Postgres port, one control test type
//   in the runner's loader) becomes a chunk file that is read, compiled and evaluated only when the
//   import runs, instead of being parsed with the entry at every cold start. `NodejsFunction`
//   cannot split: it always passes `--outfile`.
// - `sdkSchemaPurity`: lets esbuild drop the AWS SDK schemas of operations no bundled code calls.
//
// Usage: node scripts/bundle-function.mjs '<JSON options>' (see `BundleFunctionOptions` in
// infra/constructs/function-bundling.ts).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * The AWS SDK's generated `schemas_0.js` files describe every operation of a service as array
 * literals, with trait objects keyed by computed names (`{ [_h]: ["GET", "/", 200] }`, where
 * `const _h = "http"` at the top of the same file). esbuild cannot prove a computed key free of side
 * effects, so it keeps every schema of the service, used or not (S3: 69 KB, Backup: 46 KB, RDS:
 * 36 KB minified). Writing each such key as the string literal its constant holds is the same
 * object, and lets tree shaking drop the schemas no imported command reaches. Only keys bound to a
 * file-level string constant are rewritten; anything else is left as it is.
 */
export const sdkSchemaPurity = {
  name: 'sdk-schema-purity',
  setup(pluginBuild) {
    pluginBuild.onLoad(
      { filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ },
      async (args) => {
        const text = await readFile(args.path, 'utf8');
        const constants = new Map();
        for (const match of text.matchAll(/^const (_[A-Za-z0-9_]+) = ("[^"\\\n]*");$/gm)) {
          constants.set(match[1], match[2]);
        }
        const contents = text.replace(/\[(_[A-Za-z0-9_]+)\]:/g, (whole, name) =>
          constants.has(name) ? `${constants.get(name)}:` : whole,
        );
        return { contents, loader: 'js' };
      },
    );
  },
};

/** Builds one function into `outdir`: `index.mjs` (exports `handler`), `chunks/*.mjs`, source maps. */
export async function bundleFunction(options) {
  return build({
    absWorkingDir: options.projectRoot,
    entryPoints: { index: options.entry },
    outdir: options.outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: options.target,
    // ESM builds of dependencies, so tree shaking works on them.
    mainFields: ['module', 'main'],
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    // CommonJS dependencies (pg) still call require() inside the ES module chunks.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    external: options.external,
    define: options.define,
    alias: options.alias,
    plugins: [sdkSchemaPurity],
    // Returned to callers that analyse the bundle (not written to the asset).
    metafile: true,
    logLevel: 'warning',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const options = JSON.parse(process.argv[2] ?? '');
  await bundleFunction(options);
}
