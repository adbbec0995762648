import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../lib/config/load-config.ts';
import { Soc2EvidenceStack, type Soc2EvidenceStackProps } from './soc2-evidence-stack.ts';
import { readStackContext } from './stack-context.ts';

export interface BuildAppOptions {
  /** Passed to `new App()`: context (feature flags, `config`, …) and `outdir`. */
  readonly appProps?: AppProps;
  /**
   * Register cdk-nag AwsSolutions so synth fails on unacknowledged findings.
   * @default true
   */
  readonly nag?: boolean;
  /**
   * Overrides of the stack props read from context (tests use these).
   * @default - none
   */
  readonly stackProps?: Partial<Soc2EvidenceStackProps>;
}

/**
 * Builds the CDK app: reads the context, loads and validates the config (an invalid file rejects
 * with every bad field's path), registers cdk-nag and creates the stack. Account and region come
 * from the CLI's environment when there is one, and stay unresolved otherwise (offline synth).
 */
export async function buildApp(
  options: BuildAppOptions = {},
): Promise<{ app: App; stack: Soc2EvidenceStack }> {
  const app = new App(options.appProps);
  const context = readStackContext(app.node);
  const config = await loadConfig(context.configPath);
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  const stack = new Soc2EvidenceStack(app, context.stackName, {
    description:
      'soc2-evidence: scheduled SOC 2 control tests, WORM evidence, risk register and owner reminders',
    ...(account || region ? { env: { ...(account ? { account } : {}), ...(region ? { region } : {}) } } : {}),
    config,
    ...(context.network ? { network: context.network } : {}),
    ...(context.auditorRequiresMfa !== undefined ? { auditorRequiresMfa: context.auditorRequiresMfa } : {}),
    ...(context.auditorPrincipalArns ? { auditorPrincipalArns: context.auditorPrincipalArns } : {}),
    ...(context.alarmEmails ? { alarmEmails: context.alarmEmails } : {}),
    ...(context.reserveConcurrency !== undefined ? { reserveConcurrency: context.reserveConcurrency } : {}),
    ...options.stackProps,
  });
  return { app, stack };
}
