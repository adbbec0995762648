import { ConfigError } from '../lib/config/load-config.ts';
import { buildApp } from './build-app.ts';
import { StackContextError } from './stack-context.ts';

// `cdk synth` entry (cdk.json: node --import tsx infra/app.ts). A bad config or context prints what
// is wrong, field by field, and fails the synth.
try {
  const { app } = await buildApp();
  app.synth();
} catch (error) {
  if (error instanceof ConfigError || error instanceof StackContextError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
