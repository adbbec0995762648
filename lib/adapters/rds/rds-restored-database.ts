import { DescribeDBClustersCommand, DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { TargetConfig } from '../../config/schema.ts';
import { ControlCheckError, type EvidenceLog } from '../../controls/outcome.ts';
import type { RestoredDatabaseOpener } from '../../restore/restore-validation.ts';
import { recordAwsCall } from '../aws-call-evidence.ts';
import { type ConnectionResolver, makePostgresPort } from '../postgres/postgres-port.ts';

/** The target name the restored instance gets inside one validation (it is not in the config). */
export const RESTORED_TARGET = 'restore-test';

export interface RdsEndpoint {
  readonly host: string;
  readonly port: number;
}

/** `arn:aws:rds:us-east-1:111122223333:db:awsbackup-restore-test-1a2b` -> { kind: 'db', id } */
export function parseRdsArn(arn: string): { kind: 'db' | 'cluster'; id: string } {
  const match = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:(db|cluster):([A-Za-z0-9-]+)$/.exec(arn);
  if (!match)
    throw new ControlCheckError(`restored resource ${arn} is not an RDS DB instance or Aurora cluster ARN`);
  return { kind: match[1] as 'db' | 'cluster', id: match[2] as string };
}

/** Where the restored instance (or Aurora cluster writer) listens. */
export async function findRdsEndpoint(
  rds: RDSClient,
  arn: string,
  evidence: EvidenceLog,
): Promise<RdsEndpoint> {
  const { kind, id } = parseRdsArn(arn);
  // A snapshot restore that AWS Backup already cleaned up is the common "not found".
  const notFoundReason = 'no longer exists (AWS Backup may already have deleted it)';
  if (kind === 'db') {
    const response = await recordAwsCall(
      {
        evidence,
        label: `restored instance ${id}`,
        service: 'rds',
        operation: 'DescribeDBInstances',
        request: { DBInstanceIdentifier: id },
        doing: `restored instance ${id}`,
      },
      () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })),
      (found) => {
        const instance = found.DBInstances?.[0];
        const endpoint = instance?.Endpoint;
        return {
          DBInstanceIdentifier: instance?.DBInstanceIdentifier,
          DBInstanceStatus: instance?.DBInstanceStatus,
          Engine: instance?.Engine,
          EngineVersion: instance?.EngineVersion,
          StorageEncrypted: instance?.StorageEncrypted,
          Endpoint: endpoint ? { Address: endpoint.Address, Port: endpoint.Port } : null,
        };
      },
      { notFoundReason },
    );
    const instance = response.DBInstances?.[0];
    const endpoint = instance?.Endpoint;
    if (!endpoint?.Address || !endpoint.Port)
      throw new ControlCheckError(
        `restored instance ${id} has no endpoint (status ${instance?.DBInstanceStatus ?? 'unknown'})`,
      );
    return { host: endpoint.Address, port: endpoint.Port };
  }
  const response = await recordAwsCall(
    {
      evidence,
      label: `restored cluster ${id}`,
      service: 'rds',
      operation: 'DescribeDBClusters',
      request: { DBClusterIdentifier: id },
      doing: `restored cluster ${id}`,
    },
    () => rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id })),
    (found) => {
      const cluster = found.DBClusters?.[0];
      return {
        DBClusterIdentifier: cluster?.DBClusterIdentifier,
        Status: cluster?.Status,
        Engine: cluster?.Engine,
        StorageEncrypted: cluster?.StorageEncrypted,
        Endpoint: cluster?.Endpoint,
        Port: cluster?.Port,
      };
    },
    { notFoundReason },
  );
  const cluster = response.DBClusters?.[0];
  if (!cluster?.Endpoint || !cluster.Port)
    throw new ControlCheckError(
      `restored cluster ${id} has no endpoint (status ${cluster?.Status ?? 'unknown'})`,
    );
  return { host: cluster.Endpoint, port: cluster.Port };
}

/** The source's connection string aimed at the restored endpoint (same credentials, database, options). */
export function restoredConnectionString(sourceUrl: string, endpoint: RdsEndpoint): string {
  const url = new URL(sourceUrl);
  url.hostname = endpoint.host;
  url.port = String(endpoint.port);
  return url.toString();
}

/**
 * Opens the database a restore test created. A snapshot restore keeps the source's master
 * credentials and database name, so the source target's connection string is reused with the
 * restored endpoint's host and port (the string itself is never logged or recorded).
 */
export function makeRdsRestoredDatabaseOpener(options: {
  readonly rds: RDSClient;
  readonly targets: readonly TargetConfig[];
  readonly resolveConnection: ConnectionResolver;
}): RestoredDatabaseOpener {
  return async (job, sourceTarget, evidence) => {
    if (!job.createdResourceArn)
      throw new ControlCheckError(`restore job ${job.restoreJobId} names no created resource`);
    const source = options.targets.find((target) => target.name === sourceTarget);
    if (!source) throw new ControlCheckError(`no target named "${sourceTarget}" is configured`);
    const endpoint = await findRdsEndpoint(options.rds, job.createdResourceArn, evidence);
    const restored: TargetConfig = { ...source, name: RESTORED_TARGET };
    const resolve: ConnectionResolver = async (target) => {
      if (target.name !== RESTORED_TARGET) return options.resolveConnection(target);
      return restoredConnectionString(await options.resolveConnection(source), endpoint);
    };
    return {
      postgres: makePostgresPort([...options.targets, restored], resolve),
      restoredTarget: RESTORED_TARGET,
    };
  };
}
