import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Soc2Function } from '../../infra/constructs/soc2-function.ts';
import { loadConfig } from '../../lib/config/load-config.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { cdkJsonContext, REPO_ROOT, tempDir } from './support/stack-fixture.ts';

const run = promisify(execFile);
const ENTRY = join(REPO_ROOT, 'functions', 'worker', 'handler.ts');

let outdir: string;
let bundle: string;
let bundleMs: number;

beforeAll(async () => {
  outdir = tempDir('bundle');
  const config = await loadConfig(join(REPO_ROOT, 'soc2-evidence.yaml'));
  const app = new App({ outdir, context: cdkJsonContext() });
  const stack = new Stack(app, 'BundlingProbe');
  const started = Date.now();
  // The real entry and the bundling options every function of the stack uses; no Docker.
  const fn = new Soc2Function(stack, 'Worker', {
    entry: ENTRY,
    description: 'bundling probe',
    logsKey: new kms.Key(stack, 'Key'),
    bundling: {
      projectRoot: REPO_ROOT,
      define: {
        __SOC2_CONFIG__: JSON.stringify(config),
        __SOC2_EVIDENCE_VERSION__: JSON.stringify('9.9.9-probe'),
      },
    },
  });
  bundleMs = Date.now() - started;
  app.synth();
  const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
  expect(assets).toHaveLength(1);
  bundle = join(outdir, assets[0] as string, 'index.mjs');
  expect(fn.function.runtime.name).toBe('nodejs24.x');
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('local esbuild bundling', () => {
  it('bundles a handler as an ES module with the config and version compiled in', async () => {
    expect(existsSync(bundle)).toBe(true);
    const code = readFileSync(bundle, 'utf8');
    expect(code.startsWith("import { createRequire } from 'node:module';")).toBe(true);
    // Booleans, not toContain: a failure must not print a 1 MB bundle.
    expect(code.includes('typeof __SOC2_CONFIG__'), 'config define left unreplaced').toBe(false);
    expect(code.includes('audit-log-completeness'), 'example config compiled in').toBe(true);
    expect(code.includes('"9.9.9-probe"'), 'version compiled in').toBe(true);
    console.info(`bundled functions/worker in ${bundleMs} ms (${Math.round(code.length / 1024)} KiB)`);

    // The bundle loads in plain Node outside the repo: embedded config validates, env is read.
    const probe = `const m = await import(${JSON.stringify(`file://${bundle}`)}); console.log(typeof m.handler);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: outdir,
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-central-1',
        // Every variable the stack sets on the worker, and nothing else.
        [ENV.resultsTable]: 'results',
        [ENV.evidenceBucket]: 'evidence',
        [ENV.notificationsTopicArn]: 'arn:aws:sns:eu-central-1:123456789012:notifications',
        [ENV.signingKeyId]: 'arn:aws:kms:eu-central-1:123456789012:key/probe',
      },
    });
    expect(stdout.trim()).toBe('function');
  });
});
