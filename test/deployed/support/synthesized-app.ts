import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { type BuildAppOptions, buildApp } from '../../../infra/build-app.ts';
import { Soc2Function } from '../../../infra/constructs/soc2-function.ts';
import type { FunctionName } from '../../../infra/soc2-evidence-stack.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/** A CloudFormation value as the template holds it: a literal or an intrinsic (`Ref`, `Fn::GetAtt`, ...). */
export type TemplateValue = string | number | boolean | Record<string, unknown> | unknown[];

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface SynthesizedTemplate {
  readonly Resources: Record<string, TemplateResource>;
}

/** One Lambda function of the synthesized template, with the bundle the cloud assembly holds for it. */
export interface BundledFunction {
  readonly name: FunctionName;
  readonly logicalId: string;
  /** Absolute path of the bundled entry (`asset.<hash>/index.mjs`) in the cloud assembly. */
  readonly bundle: string;
  /** `Handler` from the template (`index.handler`). */
  readonly handler: string;
  readonly runtime: string;
  readonly architectures: readonly string[];
  /** `Environment.Variables` exactly as the template declares them (references unresolved). */
  readonly environment: Readonly<Record<string, TemplateValue>>;
  /** Every `.mjs` file of the asset (entry and chunks): all the code the function can ever load. */
  readonly bundleBytes: number;
  /**
   * The entry and the chunks it imports statically (transitively): what a cold start reads and
   * compiles before the handler exists. Chunks reached only through `import()` load on first use.
   */
  readonly startBytes: number;
  /** Chunk files (asset-relative) loaded only through `import()`, with their sizes. */
  readonly lazyChunks: Readonly<Record<string, number>>;
}

/** `import ... from "./x.mjs"` and `import "./x.mjs"`, not `import("./x.mjs")`. */
const STATIC_IMPORT = /(?:\bfrom|\bimport)\s*"(\.{1,2}\/[^"]+\.mjs)"/g;

function moduleFiles(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? moduleFiles(join(dir, entry.name), root)
      : entry.name.endsWith('.mjs')
        ? [relative(root, join(dir, entry.name))]
        : [],
  );
}

/** The asset-relative files a cold import of `entry` reads: the entry and its static imports, transitively. */
export function staticallyLoaded(entry: string): string[] {
  const root = dirname(entry);
  const loaded = new Set<string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const match of readFileSync(join(root, file), 'utf8').matchAll(STATIC_IMPORT)) {
      visit(relative(root, join(root, dirname(file), match[1] as string)));
    }
  };
  visit(relative(root, entry));
  return [...loaded];
}

/** Sizes of an asset's code: all of it, what the entry loads statically, and the lazily loaded rest. */
export function measureAsset(
  entry: string,
): Pick<BundledFunction, 'bundleBytes' | 'startBytes' | 'lazyChunks'> {
  const root = dirname(entry);
  const files = moduleFiles(root);
  const size = (file: string) => statSync(join(root, file)).size;
  const loaded = new Set(staticallyLoaded(entry));
  return {
    bundleBytes: files.reduce((sum, file) => sum + size(file), 0),
    startBytes: [...loaded].reduce((sum, file) => sum + size(file), 0),
    lazyChunks: Object.fromEntries(
      files.filter((file) => !loaded.has(file)).map((file) => [file, size(file)]),
    ),
  };
}

export interface SynthesizedApp {
  readonly outdir: string;
  readonly template: SynthesizedTemplate;
  readonly functions: readonly BundledFunction[];
}

/** The bundle and template properties of one function resource. */
function describeFunction(
  outdir: string,
  template: SynthesizedTemplate,
  name: FunctionName,
  logicalId: string,
): BundledFunction {
  const resource = template.Resources[logicalId];
  if (resource?.Type !== 'AWS::Lambda::Function') {
    throw new Error(`template has no AWS::Lambda::Function ${logicalId} for functions/${name}`);
  }
  const assetPath = resource.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') throw new Error(`${logicalId} has no aws:asset:path metadata`);
  const props = resource.Properties ?? {};
  const handler = String(props.Handler);
  const [file] = handler.split('.');
  const bundle = join(outdir, assetPath, `${file}.mjs`);
  const environment = ((props.Environment as { Variables?: Record<string, TemplateValue> } | undefined)
    ?.Variables ?? {}) as Record<string, TemplateValue>;
  return {
    name,
    logicalId,
    bundle,
    handler,
    runtime: String(props.Runtime),
    architectures: (props.Architectures as string[] | undefined) ?? [],
    environment,
    ...measureAsset(bundle),
  };
}

/**
 * Synthesizes the app as `cdk synth` does (infra/build-app.ts, bundling on, cdk-nag off to save
 * time: the nag test covers it) into a fresh temp outdir, and lists every Lambda of the template
 * with its bundled asset. `context` adds to cdk.json's context (e.g. `config`).
 */
export async function synthesizeApp(
  context: Record<string, unknown> = {},
  stackProps: BuildAppOptions['stackProps'] = {},
): Promise<SynthesizedApp> {
  const outdir = mkdtempSync(join(tmpdir(), 'soc2-deployed-'));
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const { app, stack } = await buildApp({
    appProps: { outdir, context: { ...cdkJson.context, 'aws:cdk:enable-asset-metadata': true, ...context } },
    nag: false,
    stackProps,
  });
  const assembly = app.synth();
  const template = JSON.parse(
    readFileSync(join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile), 'utf8'),
  ) as SynthesizedTemplate;
  const functions = Object.entries(stack.functions).map(([name, fn]) =>
    describeFunction(
      outdir,
      template,
      name as FunctionName,
      stack.getLogicalId(fn.function.node.defaultChild as never),
    ),
  );
  return { outdir, template, functions };
}

/**
 * The baseline for bundle benchmarks: an empty handler bundled by the same construct with the same
 * options as every function of the stack.
 */
export function synthesizeEmptyHandler(): {
  outdir: string;
  fn: BundledFunction;
} {
  const outdir = mkdtempSync(join(tmpdir(), 'soc2-baseline-'));
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ outdir, context: { ...cdkJson.context, 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Baseline');
  const fn = new Soc2Function(stack, 'Empty', {
    entry: join(REPO_ROOT, 'bench', 'support', 'empty-handler.ts'),
    description: 'bundle benchmark baseline',
    logsKey: new kms.Key(stack, 'Key'),
    bundling: {
      projectRoot: REPO_ROOT,
      define: {},
    },
  });
  const assembly = app.synth();
  const template = JSON.parse(
    readFileSync(join(assembly.directory, assembly.getStackByName('Baseline').templateFile), 'utf8'),
  ) as SynthesizedTemplate;
  return {
    outdir,
    fn: describeFunction(
      outdir,
      template,
      'dispatcher',
      stack.getLogicalId(fn.function.node.defaultChild as never),
    ),
  };
}
