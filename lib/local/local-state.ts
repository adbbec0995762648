import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { makeDynamoResultsStore } from '../adapters/dynamodb/dynamodb-results.ts';
import { makeFileNotifier } from '../adapters/filesystem/file-notifier.ts';
import { makeFolderBucket } from '../adapters/filesystem/folder-bucket.ts';
import { makeFolderObjectStore } from '../adapters/filesystem/folder-object-store.ts';
import { loadOrCreateLocalSigningKey, makeLocalSigner } from '../evidence/local-signer.ts';
import type { ResultsStore } from '../runs/results-store.ts';
import { makeDynamoDbClient } from '../wiring/clients/dynamodb-client.ts';
import type { LocalRunStores } from '../wiring/make-local-run-deps.ts';
import { createResultsTable, LOCAL_NAMES } from './provision.ts';
import { DEFAULT_STATE_DIR, STATE_LAYOUT } from './state-layout.ts';

export { DEFAULT_STATE_DIR, STATE_LAYOUT };

const README = `This folder is the local state of \`soc2-evidence run --local\` (see docs/local.md).

  evidence-bucket/       the evidence bucket, as \`aws s3 sync s3://<bucket>/ <dir>\` leaves it:
                         evidence/<control>/<cadence>/<period>/<runId>/{result,manifest}.json,
                         manifest.sig, evidence/_public-keys/, checkpoints/. Check it with
                         \`soc2-evidence verify <this folder>/evidence-bucket\`.
  results-table/         the results table (DynamoDB emulator's LevelDB store): verdicts, attempts
  inputs/<bucket>/<key>  scanner reports and attestations the controls read (S3 in AWS)
  signing-key.pem        the key that signs manifests (KMS in AWS); keep it private
  notifications.jsonl    what owners would have been sent (SNS in AWS)

Delete the folder to start over. Never edit files under evidence-bucket/: verify would (rightly)
report them as tampered with.
`;

export class LocalStateBusyError extends Error {
  override name = 'LocalStateBusyError';
}

export class LocalStateMissingError extends Error {
  override name = 'LocalStateMissingError';
}

export interface LocalState extends LocalRunStores {
  /** Absolute path of the state folder. */
  readonly dir: string;
  /** Absolute path of the evidence bucket folder (what `verify` reads). */
  readonly bucketDir: string;
  readonly notificationsFile: string;
  /** Stops the table's emulator (flushing its store) and releases the folder. */
  close(): Promise<void>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process at a time: the table's LevelDB store takes an exclusive lock, and two runs extending
 * the same chains would only race. A lock left by a process that no longer exists is taken over.
 */
async function takeLock(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && holder !== process.pid && processAlive(holder)) {
        throw new LocalStateBusyError(
          `the local state in ${path.slice(0, -'/lock'.length)} is in use by process ${holder}; wait for it to finish (or pass --state DIR)`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new LocalStateBusyError(`could not lock ${path}`);
}

async function tableExists(stores: Pick<LocalRunStores, 'dynamodb' | 'resultsTable'>): Promise<boolean> {
  try {
    await stores.dynamodb.send(new DescribeTableCommand({ TableName: stores.resultsTable }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

/**
 * Opens (creating on first use) the state folder of local runs: the results table served by
 * dynalite from its on-disk store on a random loopback port, the evidence bucket as a folder, the
 * signing key, the notifications file. Nothing here is shared with the demo, which boots its own
 * in-memory services.
 */
export async function openLocalState(stateDir: string = DEFAULT_STATE_DIR): Promise<LocalState> {
  const dir = resolve(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const releaseLock = await takeLock(join(dir, STATE_LAYOUT.lock));
  const server = dynalite({
    path: join(dir, STATE_LAYOUT.results),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  let listening = false;
  const stopServer = () =>
    listening ? new Promise<void>((done) => server.close(() => done())) : Promise.resolve();
  try {
    await new Promise<void>((ready, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => ready());
    });
    listening = true;
    const port = (server.address() as AddressInfo).port;
    const dynamodb = makeDynamoDbClient({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
    });
    const resultsTable = LOCAL_NAMES.table;
    if (!(await tableExists({ dynamodb, resultsTable }))) await createResultsTable(dynamodb, resultsTable);
    await writeFile(join(dir, STATE_LAYOUT.readme), README, { flag: 'wx' }).catch(() => {});
    const bucketDir = join(dir, STATE_LAYOUT.bucket);
    await mkdir(bucketDir, { recursive: true });
    const notificationsFile = join(dir, STATE_LAYOUT.notifications);
    const signingKey = await loadOrCreateLocalSigningKey(join(dir, STATE_LAYOUT.signingKey));
    return {
      dir,
      bucketDir,
      notificationsFile,
      dynamodb,
      resultsTable,
      bucket: makeFolderBucket(bucketDir, join(dir, STATE_LAYOUT.scratch)),
      inputs: makeFolderObjectStore(join(dir, STATE_LAYOUT.inputs), LOCAL_NAMES.bucket),
      signer: makeLocalSigner({ privateKeyPem: signingKey }),
      notifier: makeFileNotifier(notificationsFile),
      async close() {
        dynamodb.destroy();
        await stopServer();
        await releaseLock();
      },
    };
  } catch (error) {
    await stopServer();
    await releaseLock();
    throw error;
  }
}

/** The results table of the state folder for one command (`risks --with-verdicts --local`). */
export async function withLocalResultsStore<T>(
  stateDir: string | undefined,
  use: (store: ResultsStore) => Promise<T>,
): Promise<T> {
  if (!existsSync(join(resolve(stateDir ?? DEFAULT_STATE_DIR), STATE_LAYOUT.results))) {
    throw new LocalStateMissingError(
      `no local results in ${resolve(stateDir ?? DEFAULT_STATE_DIR)}: run \`soc2-evidence run --local\` first`,
    );
  }
  const state = await openLocalState(stateDir);
  try {
    return await use(makeDynamoResultsStore(state.dynamodb, state.resultsTable));
  } finally {
    await state.close();
  }
}
