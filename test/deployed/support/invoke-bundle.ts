import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BundledFunction } from './synthesized-app.ts';

/**
 * What one invocation of a bundle in its own `node` process produced. `result` is the handler's
 * return value; `error` what it threw (`name: message`); `logs` every JSON line it printed (stdout
 * and stderr).
 */
export interface Invocation {
  readonly result?: unknown;
  readonly error?: string;
  readonly logs: readonly Record<string, unknown>[];
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
}

// Runs inside the child: the Lambda runtime's part (import the handler module, build the context,
// call it once), with the outcome written to a file so log lines on stdout stay the function's own.
const RUNTIME = `
import { readFileSync, writeFileSync } from 'node:fs';
const [bundleUrl, exportName, eventFile, resultFile] = process.argv.slice(1);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const deadline = Date.now() + Number(process.env.AWS_LAMBDA_FUNCTION_TIMEOUT ?? 60) * 1000;
const context = {
  awsRequestId: process.env.TEST_REQUEST_ID,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:' + process.env.AWS_REGION + ':000000000000:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  logGroupName: '/aws/lambda/' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => deadline - Date.now(),
};
let outcome;
try {
  const module = await import(bundleUrl);
  const handler = module[exportName];
  if (typeof handler !== 'function') throw new Error('the bundle exports no function ' + exportName);
  outcome = { result: (await handler(event, context)) ?? null };
} catch (error) {
  outcome = { error: error instanceof Error ? error.name + ': ' + error.message : String(error) };
}
writeFileSync(resultFile, JSON.stringify(outcome));
// Lambda freezes the process after the response; here the SDK's keep-alive sockets would hold it open.
process.exit(0);
`;

let requests = 0;

/**
 * Invokes a bundled function once in a fresh `node` process whose environment is exactly `env`
 * (plus PATH and the variables Lambda itself sets), with cwd the asset folder, as Lambda runs it.
 */
export async function invokeBundle(
  fn: BundledFunction,
  env: Readonly<Record<string, string>>,
  event: unknown,
): Promise<Invocation> {
  const dir = mkdtempSync(join(tmpdir(), 'soc2-invoke-'));
  try {
    const eventFile = join(dir, 'event.json');
    const resultFile = join(dir, 'result.json');
    writeFileSync(eventFile, JSON.stringify(event));
    requests += 1;
    const [file, exportName] = fn.handler.split('.');
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        RUNTIME,
        pathToFileURL(fn.bundle).href,
        exportName ?? 'handler',
        eventFile,
        resultFile,
      ],
      {
        cwd: dirname(fn.bundle),
        env: {
          PATH: process.env.PATH ?? '',
          AWS_LAMBDA_FUNCTION_NAME: fn.name,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
          AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
          AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
          LAMBDA_TASK_ROOT: dirname(fn.bundle),
          TEST_REQUEST_ID: `req-${process.pid}-${requests}`,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (file !== 'index') throw new Error(`unexpected handler file ${file}`);
    let outcome: { result?: unknown; error?: string } = {};
    try {
      outcome = JSON.parse(readFileSync(resultFile, 'utf8')) as typeof outcome;
    } catch {
      outcome = { error: `the process wrote no result (exit ${exitCode}): ${stderr.slice(0, 2000)}` };
    }
    // Powertools writes WARN and ERROR lines to stderr; Lambda sends both streams to CloudWatch.
    const logs = `${stdout}\n${stderr}`
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { ...outcome, logs, stdout, stderr, exitCode };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
