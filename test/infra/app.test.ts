import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app.ts';
import { readStackContext, StackContextError } from '../../infra/stack-context.ts';
import { ConfigError } from '../../lib/config/load-config.ts';
import { auditLogConfigYaml } from '../support/config-fixture.ts';
import { cdkJsonContext, REPO_ROOT, stubProjectRoot, tempDir } from './support/stack-fixture.ts';

const run = promisify(execFile);

let projectRoot: string;
let work: string;

beforeAll(() => {
  projectRoot = stubProjectRoot();
  work = tempDir('app');
});

afterAll(() => {
  rmSync(projectRoot, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

function appProps(context: Record<string, unknown>) {
  return {
    outdir: join(work, `out-${Math.random().toString(36).slice(2)}`),
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context },
  };
}

const BAD_CADENCE = auditLogConfigYaml({ targetEnv: 'DATABASE_URL', test: {} }).replace(
  'cadence: monthly',
  'cadence: fortnightly',
);

describe('the CDK app', () => {
  it('synthesizes the example configuration in a VPC with cdk-nag and CloudFormation validation passing', async () => {
    const { app, stack } = await buildApp({
      appProps: appProps({
        config: join(REPO_ROOT, 'soc2-evidence.yaml'),
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
        securityGroupIds: 'sg-0123456789abcdef0',
      }),
      stackProps: { projectRoot },
    });
    // Policy validation runs inside synth: an unacknowledged cdk-nag finding throws here.
    const assembly = app.synth();
    expect(assembly.getStackByName(stack.stackName).template).toBeDefined();
    expect(stack.stackName).toBe('Soc2Evidence');
    expect(stack.account).toMatch(/^\$\{Token/); // unresolved: offline, no credentials needed
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(15 0 1 * ? *)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('runs one control test'),
      VpcConfig: {
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        SecurityGroupIds: ['sg-0123456789abcdef0'],
      },
    });
  });

  it('fails with the path of the bad field when the config is invalid', async () => {
    const path = join(work, 'bad-cadence.yaml');
    writeFileSync(path, BAD_CADENCE);
    const attempt = buildApp({ appProps: appProps({ config: path }), stackProps: { projectRoot } });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(/controls\[0\]\.cadence: expected one of daily, weekly, monthly/);
  });

  it('exits 1 from `cdk synth` printing the bad field, before building anything', async () => {
    const path = join(work, 'bad-cadence-cli.yaml');
    writeFileSync(path, BAD_CADENCE);
    const failure = await run(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ config: path }),
        CDK_OUTDIR: join(work, 'cli-out'),
      },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('controls[0].cadence');
    expect(failure?.stderr).not.toMatch(/\n\s+at /); // a message for a person, not a stack trace
  });

  it('refuses a worker timeout that a target statement could outlast', async () => {
    const attempt = buildApp({
      appProps: appProps({ config: join(REPO_ROOT, 'soc2-evidence.yaml') }),
      stackProps: { projectRoot, workerTimeout: Duration.seconds(20) },
    });
    await expect(attempt).rejects.toThrow(
      /worker timeout 20 s must exceed the longest targets\[\]\.statementTimeoutMs/,
    );
  });
});

describe('stack context', () => {
  const node = (context: Record<string, unknown>) => ({ tryGetContext: (key: string) => context[key] });

  it('defaults to the example config, no VPC and the stack name Soc2Evidence', () => {
    expect(readStackContext(node({}))).toEqual({
      configPath: 'soc2-evidence.yaml',
      stackName: 'Soc2Evidence',
    });
  });

  it('reads VPC placement, auditor and alarm settings from -c key=value strings', () => {
    expect(
      readStackContext(
        node({
          vpcId: 'vpc-0123456789abcdef0',
          subnetIds: 'subnet-0123456789abcdef0, subnet-0123456789abcdef1',
          securityGroupIds: 'sg-01234567',
          auditorRequiresMfa: 'true',
          alarmEmails: 'oncall@example.com',
          reserveConcurrency: 'false',
        }),
      ),
    ).toEqual({
      configPath: 'soc2-evidence.yaml',
      stackName: 'Soc2Evidence',
      network: {
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        securityGroupIds: ['sg-01234567'],
      },
      auditorRequiresMfa: true,
      alarmEmails: ['oncall@example.com'],
      reserveConcurrency: false,
    });
  });

  it.each([
    [{ vpcId: 'vpc-0123456789abcdef0' }, /subnetIds: expected at least one/],
    [{ subnetIds: 'subnet-0123456789abcdef0' }, /set vpcId as well/],
    [{ vpcId: 'my-vpc', subnetIds: 'subnet-0123456789abcdef0' }, /vpcId: expected vpc-/],
    [{ vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-x' }, /"subnet-x" is not a subnet id/],
    [{ auditorRequiresMfa: 'yes' }, /auditorRequiresMfa: expected true or false/],
  ])('rejects %j naming the context key', (context, message) => {
    expect(() => readStackContext(node(context))).toThrow(StackContextError);
    expect(() => readStackContext(node(context))).toThrow(message);
  });
});
