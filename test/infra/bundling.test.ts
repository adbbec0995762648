import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Soc2Function } from '../../infra/constructs/soc2-function.ts';
import { loadConfig } from '../../lib/config/load-config.ts';
import { CONTROL_TEST_TYPES } from '../../lib/controls/registry.ts';
import { ENV } from '../../lib/shared/runtime-env.ts';
import { measureAsset, staticallyLoaded } from '../deployed/support/synthesized-app.ts';
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
  it('leaves what only some invocations use in chunks that a cold start does not read', () => {
    const { lazyChunks } = measureAsset(bundle);
    const lazy = Object.keys(lazyChunks).map((file) =>
      file.replace(/^chunks\//, '').replace(/-[A-Z0-9]+\.mjs$/, ''),
    );
    // One chunk per control test type: a worker builds the zod schema of the types it runs only.
    for (const type of CONTROL_TEST_TYPES) expect(lazy, type).toContain(type);
    // The account APIs only secret-rotation and restore-test-history call.
    expect(lazy).toEqual(expect.arrayContaining(['iam-client', 'backup-client']));
    const asset = dirname(bundle);
    const startCode = staticallyLoaded(bundle)
      .map((file) => readFileSync(join(asset, file), 'utf8'))
      .join('\n');
    const lazyCode = Object.keys(lazyChunks)
      .map((file) => readFileSync(join(asset, file), 'utf8'))
      .join('\n');
    // Booleans, not toContain: a failure must not print the bundle. pg's SCRAM code, IAM's and
    // Backup's operations, log-completeness' params schema: bundled, but not loaded at cold start.
    for (const marker of [
      'SCRAM-SERVER-FIRST-MESSAGE',
      '"ListAccessKeys"',
      '"ListRestoreJobs"',
      'expected businessEnd after businessStart',
    ]) {
      expect(lazyCode.includes(marker), `${marker} is bundled`).toBe(true);
      expect(startCode.includes(marker), `${marker} is not loaded at cold start`).toBe(false);
    }
  });

  it('bundles a handler as an ES module with the config and version compiled in', async () => {
    expect(existsSync(bundle)).toBe(true);
    // The entry and its chunks: the config and version may land in a chunk the entry imports.
    const asset = dirname(bundle);
    const files = ['index.mjs', ...readdirSync(join(asset, 'chunks')).map((name) => join('chunks', name))]
      .filter((file) => file.endsWith('.mjs'))
      .map((file) => readFileSync(join(asset, file), 'utf8'));
    for (const code of files) {
      expect(code.startsWith("import { createRequire } from 'node:module';")).toBe(true);
      // Left out of the bundle as dead code: nothing may import it (it is not in the asset).
      expect(/["']bowser["']/.test(code), 'a chunk imports bowser').toBe(false);
    }
    const code = files.join('\n');
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
