import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  type AddressInfo,
  connect,
  createServer as createTcpServer,
  type Server,
  type Socket,
} from 'node:net';

/**
 * AWS Backup and RDS have no emulator here: this stand-in answers exactly the calls the restore
 * validator makes, in each service's own protocol, for the real SDK clients
 * (`AWS_ENDPOINT_URL_BACKUP`, `AWS_ENDPOINT_URL_RDS`, both this one loopback port):
 * - Backup (REST-JSON): `GET /restore-jobs/{id}` (DescribeRestoreJob) and
 *   `PUT /restore-jobs/{id}/validations` (PutRestoreValidationResult).
 * - RDS (Query protocol, XML answers): `POST /` with `Action=DescribeDBInstances`.
 * Each request must be SigV4-signed for the service its route belongs to (the credential scope
 * names it), so a client aimed at the wrong endpoint fails instead of being answered. Anything
 * else answers an error naming what was asked.
 *
 * A restored instance is a database on a real PostgreSQL server behind an endpoint of its own: a
 * loopback TCP port that forwards to that server and rewrites the database name of the startup
 * message. A snapshot restore keeps the source's database name (the validator reuses the source's
 * connection string with the restored host and port), so this is how a copy on the same server
 * looks like another instance to it. Plain TCP only: connections must say `sslmode=disable`.
 */
export interface BackupRdsStandIn {
  readonly endpoint: string;
  /** Every request, in order: `backup.DescribeRestoreJob`, `rds.DescribeDBInstances`, ... */
  readonly calls: { readonly operation: string; readonly input: Record<string, unknown> }[];
  /** What PutRestoreValidationResult reported, per restore job. */
  readonly validations: ReadonlyMap<string, { readonly status: string; readonly message: string }>;
  putRestoreJob(job: StandInRestoreJob): void;
  /**
   * An RDS instance whose endpoint reaches `database` on the PostgreSQL server at `serverUrl`;
   * returns its ARN (the restore job's CreatedResourceArn).
   */
  putDbInstance(
    id: string,
    target: { readonly serverUrl: string; readonly database: string },
  ): Promise<string>;
  stop(): Promise<void>;
}

export interface StandInRestoreJob {
  readonly restoreJobId: string;
  readonly status: 'COMPLETED' | 'RUNNING' | 'FAILED' | 'ABORTED' | 'PENDING';
  readonly resourceType: string;
  readonly sourceResourceArn: string;
  readonly createdResourceArn: string;
  readonly restoreTestingPlanArn?: string;
  readonly creationDate: Date;
  readonly completionDate?: Date;
  readonly recoveryPointCreationDate: Date;
}

class StandInError extends Error {
  override name = 'StandInError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The service a SigV4 request was signed for: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
function signedService(request: IncomingMessage): string | undefined {
  return /Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/([a-z0-9-]+)\/aws4_request/.exec(
    String(request.headers.authorization ?? ''),
  )?.[1];
}

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });

const escapeXml = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const RDS_NS = 'http://rds.amazonaws.com/doc/2014-10-31/';

/** The PostgreSQL StartupMessage with its `database` parameter replaced; other messages unchanged. */
function rewriteStartup(message: Buffer, database: string): Buffer {
  const protocol = message.readInt32BE(4);
  if (protocol !== 196_608) return message; // not protocol 3.0 startup (SSLRequest, CancelRequest)
  const fields = message
    .subarray(8, message.length - 1)
    .toString('utf8')
    .split('\0');
  const pairs: string[] = [];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const key = fields[index] ?? '';
    pairs.push(key, key === 'database' ? database : (fields[index + 1] ?? ''));
  }
  const body = Buffer.from(`${pairs.join('\0')}\0\0`, 'utf8');
  const head = Buffer.alloc(8);
  head.writeInt32BE(body.length + 8, 0);
  head.writeInt32BE(protocol, 4);
  return Buffer.concat([head, body]);
}

/** A loopback endpoint forwarding to `upstream`, with the startup message's database rewritten. */
async function startInstanceEndpoint(
  upstream: { readonly host: string; readonly port: number },
  database: string,
): Promise<{ readonly port: number; readonly server: Server; readonly sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4 || buffered.length < buffered.readInt32BE(0)) return;
      client.off('data', onData);
      client.pause();
      const length = buffered.readInt32BE(0);
      const upstreamSocket = connect(upstream.port, upstream.host, () => {
        upstreamSocket.write(rewriteStartup(buffered.subarray(0, length), database));
        if (buffered.length > length) upstreamSocket.write(buffered.subarray(length));
        client.pipe(upstreamSocket).pipe(client);
        client.resume();
      });
      sockets.add(upstreamSocket);
      upstreamSocket.on('close', () => {
        sockets.delete(upstreamSocket);
        client.destroy();
      });
      upstreamSocket.on('error', () => client.destroy());
      client.on('close', () => upstreamSocket.destroy());
    };
    client.on('data', onData);
    client.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server, sockets };
}

export async function startBackupRdsStandIn(
  options: { readonly region?: string; readonly account?: string } = {},
): Promise<BackupRdsStandIn> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const calls: { operation: string; input: Record<string, unknown> }[] = [];
  const jobs = new Map<string, StandInRestoreJob>();
  const validations = new Map<string, { status: string; message: string }>();
  const instances = new Map<
    string,
    { readonly arn: string; readonly port: number; readonly server: Server; readonly sockets: Set<Socket> }
  >();
  const seconds = (date: Date) => date.getTime() / 1000;

  const backupJob = (restoreJobId: string) => {
    const job = jobs.get(restoreJobId);
    if (!job)
      throw new StandInError(
        'ResourceNotFoundException',
        400,
        `no restore job ${restoreJobId} in the stand-in`,
      );
    return job;
  };

  const describeRestoreJob = (restoreJobId: string) => {
    const job = backupJob(restoreJobId);
    const validation = validations.get(restoreJobId);
    return {
      AccountId: account,
      RestoreJobId: job.restoreJobId,
      Status: job.status,
      ResourceType: job.resourceType,
      SourceResourceArn: job.sourceResourceArn,
      CreatedResourceArn: job.createdResourceArn,
      RecoveryPointArn: `arn:aws:rds:${region}:${account}:snapshot:awsbackup:job-${job.restoreJobId}`,
      IamRoleArn: `arn:aws:iam::${account}:role/service-role/AWSBackupDefaultServiceRole`,
      ...(job.restoreTestingPlanArn
        ? { CreatedBy: { RestoreTestingPlanArn: job.restoreTestingPlanArn } }
        : {}),
      CreationDate: seconds(job.creationDate),
      ...(job.completionDate ? { CompletionDate: seconds(job.completionDate) } : {}),
      RecoveryPointCreationDate: seconds(job.recoveryPointCreationDate),
      ...(validation
        ? { ValidationStatus: validation.status, ValidationStatusMessage: validation.message }
        : {}),
    };
  };

  const describeDbInstances = (params: URLSearchParams): string => {
    const id = params.get('DBInstanceIdentifier') ?? '';
    const instance = instances.get(id);
    if (!instance) throw new StandInError('DBInstanceNotFound', 404, `DBInstance ${id} not found.`);
    return (
      `<DescribeDBInstancesResponse xmlns="${RDS_NS}"><DescribeDBInstancesResult><DBInstances><DBInstance>` +
      `<DBInstanceIdentifier>${escapeXml(id)}</DBInstanceIdentifier>` +
      `<DBInstanceArn>${escapeXml(instance.arn)}</DBInstanceArn>` +
      '<DBInstanceStatus>available</DBInstanceStatus><Engine>postgres</Engine><EngineVersion>18.4</EngineVersion>' +
      '<StorageEncrypted>true</StorageEncrypted>' +
      `<Endpoint><Address>127.0.0.1</Address><Port>${instance.port}</Port></Endpoint>` +
      `</DBInstance></DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeDBInstancesResponse>`
    );
  };

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const body = await readBody(request);
    const jobPath = /^\/restore-jobs\/([^/]+)(\/validations)?$/.exec(url.pathname);
    const service = jobPath
      ? 'backup'
      : request.method === 'POST' && url.pathname === '/'
        ? 'rds'
        : undefined;
    const signedFor = signedService(request);
    if (service === undefined || signedFor !== service) {
      throw new StandInError(
        'UnsupportedOperation',
        400,
        `stand-in does not serve ${request.method} ${url.pathname} (signed for ${signedFor ?? 'no service'})`,
      );
    }
    if (service === 'backup' && jobPath) {
      const restoreJobId = decodeURIComponent(jobPath[1] ?? '');
      if (request.method === 'GET' && !jobPath[2]) {
        calls.push({ operation: 'backup.DescribeRestoreJob', input: { RestoreJobId: restoreJobId } });
        const output = describeRestoreJob(restoreJobId);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(output));
        return;
      }
      if (request.method === 'PUT' && jobPath[2]) {
        const input = JSON.parse(body || '{}') as {
          ValidationStatus?: string;
          ValidationStatusMessage?: string;
        };
        calls.push({
          operation: 'backup.PutRestoreValidationResult',
          input: { RestoreJobId: restoreJobId, ...input },
        });
        backupJob(restoreJobId);
        if (input.ValidationStatus !== 'SUCCESSFUL' && input.ValidationStatus !== 'FAILED')
          throw new StandInError(
            'InvalidParameterValueException',
            400,
            'ValidationStatus must be SUCCESSFUL or FAILED',
          );
        validations.set(restoreJobId, {
          status: input.ValidationStatus,
          message: input.ValidationStatusMessage ?? '',
        });
        response.writeHead(204).end();
        return;
      }
      throw new StandInError(
        'UnsupportedOperation',
        400,
        `stand-in does not serve ${request.method} ${url.pathname}`,
      );
    }
    const params = new URLSearchParams(body);
    const action = params.get('Action') ?? '';
    calls.push({ operation: `rds.${action}`, input: Object.fromEntries(params) });
    if (action !== 'DescribeDBInstances' || params.get('Version') !== '2014-10-31')
      throw new StandInError('InvalidAction', 400, `stand-in does not serve RDS ${action}`);
    const xml = describeDbInstances(params);
    response.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
  };

  const http = createHttpServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      const code = error instanceof StandInError ? error.code : 'InternalFailure';
      const status = error instanceof StandInError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      // Query-protocol clients (RDS, and SNS or SQS aimed here by mistake) read XML errors.
      if (String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        response
          .writeHead(status, { 'content-type': 'text/xml' })
          .end(
            `<ErrorResponse xmlns="${RDS_NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
          );
        return;
      }
      response
        .writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': code })
        .end(JSON.stringify({ __type: code, Message: message }));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    validations,
    putRestoreJob(job) {
      jobs.set(job.restoreJobId, job);
    },
    async putDbInstance(id, target) {
      const server = new URL(target.serverUrl);
      const endpoint = await startInstanceEndpoint(
        { host: server.hostname, port: Number(server.port || 5432) },
        target.database,
      );
      const arn = `arn:aws:rds:${region}:${account}:db:${id}`;
      instances.set(id, { arn, ...endpoint });
      return arn;
    },
    async stop() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      for (const instance of instances.values()) {
        for (const socket of instance.sockets) socket.destroy();
        await new Promise<void>((resolve) => instance.server.close(() => resolve()));
      }
    },
  };
}
