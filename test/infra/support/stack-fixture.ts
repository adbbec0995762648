import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  FUNCTION_NAMES,
  Soc2EvidenceStack,
  type Soc2EvidenceStackProps,
} from '../../../infra/soc2-evidence-stack.ts';
import { parseConfig } from '../../../lib/config/load-config.ts';
import type { ConfigInput } from '../../../lib/config/schema.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/** The feature flags of cdk.json, so tests synthesize exactly as `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/** A fresh temp folder; the caller removes it (`rmSync(dir, { recursive: true, force: true })`). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `soc2-infra-${prefix}-`));
}

/**
 * A project root for template tests: the real package.json and lock file, and a stub handler per
 * function. With bundling skipped the entries are never read, only required to exist, so the
 * template contract is tested whichever handlers other work has landed; the bundling test and
 * `cdk synth` use the real `functions/`.
 */
export function stubProjectRoot(): string {
  const root = tempDir('root');
  copyFileSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
  copyFileSync(join(REPO_ROOT, 'package-lock.json'), join(root, 'package-lock.json'));
  for (const name of FUNCTION_NAMES) {
    mkdirSync(join(root, 'functions', name), { recursive: true });
    writeFileSync(join(root, 'functions', name, 'handler.ts'), 'export const handler = async () => ({});\n');
  }
  return root;
}

export interface SynthesizedStack {
  readonly stack: Soc2EvidenceStack;
  readonly template: Template;
  /** The template as JSON, for assertions that walk every resource of a type. */
  readonly json: {
    Resources: Record<
      string,
      { Type: string; Properties?: Record<string, unknown> } & Record<string, unknown>
    >;
  };
}

/** Validates `rawConfig` like the app does, builds the stack with bundling skipped and synthesizes it. */
export function synthesizeStack(
  rawConfig: ConfigInput,
  props: Partial<Omit<Soc2EvidenceStackProps, 'config'>> & { projectRoot: string },
): SynthesizedStack {
  const outdir = tempDir('out');
  try {
    // CDK's built-in CloudFormation validation costs seconds on a cold start; the app test keeps it on.
    const app = new App({
      outdir,
      builtinCloudFormationValidation: false,
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
    });
    const stack = new Soc2EvidenceStack(app, 'Soc2Evidence', {
      ...props,
      config: parseConfig(rawConfig, 'test'),
    });
    const template = Template.fromStack(stack);
    return { stack, template, json: template.toJSON() as SynthesizedStack['json'] };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Resources of one CloudFormation type, by logical id. */
export function resourcesOf(
  synthesized: SynthesizedStack,
  type: string,
): [string, { Properties?: Record<string, unknown> } & Record<string, unknown>][] {
  return Object.entries(synthesized.json.Resources).filter(([, resource]) => resource.Type === type);
}

/** One IAM or key policy statement as the template holds it (values may be intrinsic functions). */
export type PolicyStatement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
