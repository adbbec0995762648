import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { bundledFunctionCode } from './function-bundling.ts';
import { acknowledge, acknowledgeKmsGrantWildcards } from './nag.ts';

/** Where a function runs inside the customer's VPC (to reach databases that are not public). */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: readonly ec2.ISubnet[];
  readonly securityGroups: readonly ec2.ISecurityGroup[];
}

/** Repository paths esbuild bundles from. */
export interface BundlingSource {
  /** Repository root: everything bundled lives under it. */
  readonly projectRoot: string;
  /**
   * Compile-time constants (esbuild `define`): the validated config and the tool version.
   * Values are JavaScript expressions, e.g. `JSON.stringify(config)`.
   */
  readonly define: Readonly<Record<string, string>>;
}

export interface Soc2FunctionProps {
  /** Absolute path of the handler's TypeScript entry (`functions/<name>/handler.ts`). */
  readonly entry: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  readonly bundling: BundlingSource;
  /** Key for the log group. */
  readonly logsKey: kms.IKey;
  /**
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * VPC placement.
   * @default - not in a VPC
   */
  readonly network?: FunctionNetwork;
  /**
   * For asynchronously invoked functions: where the invocation record goes once retries are exhausted.
   * @default - no on-failure destination (synchronous or event source mapping invocations)
   */
  readonly onFailure?: sqs.IQueue;
  /**
   * Retries of a failed asynchronous invocation.
   * @default 2
   */
  readonly retryAttempts?: number;
  /**
   * Reserved concurrency. Each reservation lowers the account's unreserved pool, which AWS keeps
   * at 10 or more; new accounts with a limit of 10 cannot reserve any.
   * @default - none
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Trust the Amazon RDS certificate authorities, for functions that open TLS connections to RDS
   * with certificate verification. Lambda's Node.js 20+ runtimes do not load Amazon's CA
   * certificates by default; `NODE_EXTRA_CA_CERTS` pointing at the runtime's bundle
   * (`RUNTIME_CA_BUNDLE`) makes Node trust them. Off elsewhere: loading the bundle costs cold start.
   * @default false
   */
  readonly trustRdsCertificates?: boolean;
}

/**
 * The CA bundle Lambda's Node.js runtimes ship (Amazon's CAs, the RDS ones included), per the
 * Lambda Node.js documentation ("CA certificate loading").
 */
export const RUNTIME_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/**
 * A Lambda function with this project's defaults: Node.js 24 on ARM64, bundled locally by esbuild
 * as minified ES modules for node24 (no Docker; code split, see `function-bundling.ts`), source maps written beside the bundle but not
 * loaded at start (`--enable-source-maps` costs cold start; set NODE_OPTIONS to it when debugging),
 * X-Ray active tracing, its own KMS-encrypted log group with a retention, and its own role holding
 * only the log write grant until bindings add more.
 */
export class Soc2Function extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: Soc2FunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Our own role instead of the AWSLambdaBasicExecutionRole managed policy: logs go to this
    // function's log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `soc2-evidence ${id}`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.network) {
      // What AWSLambdaVPCAccessExecutionRole grants; network interface actions take no resource ARN.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ManageVpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    this.function = new lambda.Function(this, 'Function', {
      code: bundledFunctionCode({
        projectRoot: props.bundling.projectRoot,
        entry: props.entry,
        target: 'node24',
        // The AWS SDK is bundled at the versions package-lock.json pins (the ones the tests ran),
        // not taken from the runtime. pg-native is an optional addon pg never loads here. bowser
        // parses browser user agents for the SDK's browser runtime; tree shaking drops its only
        // caller, but esbuild still writes the chunk of its `import()` (34 KB nothing can load).
        // The bundling test fails if any chunk imports bowser.
        external: ['pg-native', 'bowser'],
        define: { ...props.bundling.define },
        // In Lambda the role's credentials are in the environment: the SDK's full default chain
        // (SSO, INI, web identity, IMDS and their STS/SSO clients, ~100 KB) is replaced by an
        // env-only provider with the same exports. The CLI and tests keep the real chain.
        alias: {
          '@aws-sdk/credential-provider-node': join(
            props.bundling.projectRoot,
            'lib',
            'wiring',
            'lambda-credentials.ts',
          ),
        },
      }),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.trustRdsCertificates ? { environment: { NODE_EXTRA_CA_CERTS: RUNTIME_CA_BUNDLE } } : {}),
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: { subnets: [...props.network.subnets] },
            securityGroups: [...props.network.securityGroups],
          }
        : {}),
      ...(props.onFailure
        ? {
            onFailure: new destinations.SqsDestination(props.onFailure),
            retryAttempts: props.retryAttempts ?? 2,
            maxEventAge: Duration.hours(6),
          }
        : {}),
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
    });
    if (props.onFailure) {
      acknowledgeKmsGrantWildcards(this.role, 'the data key that encrypts the on-failure queue');
    }
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) and, in a VPC, the ec2 network ' +
        'interface actions support no resource-level permissions; AWS documents Resource "*" for them.',
    );
  }
}
