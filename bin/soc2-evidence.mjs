#!/usr/bin/env node
// The CLI runs the TypeScript sources directly through tsx, so the package ships no build step.
import { register } from 'tsx/esm/api';

// The demo talks only to local emulators; the SDK's Node 22 notice is noise there, not a risk.
if (process.argv[2] === 'demo') process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../lib/cli/main.ts');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exitCode = 1;
}
