import {
  DBInstanceNotFoundFault,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  findRdsEndpoint,
  parseRdsArn,
  restoredConnectionString,
} from '../../../lib/adapters/rds/rds-restored-database.ts';
import { EvidenceLog } from '../../../lib/controls/outcome.ts';

describe('restored RDS database', () => {
  const client = new RDSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const rds = mockClient(client);
  beforeEach(() => rds.reset());

  it('finds the endpoint of the instance a restore test created and records it', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'awsbackup-restore-test-1a2b' }).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'awsbackup-restore-test-1a2b',
          DBInstanceStatus: 'available',
          Endpoint: { Address: 'restored.abc.us-east-1.rds.amazonaws.com', Port: 5432 },
        },
      ],
    });
    const evidence = new EvidenceLog();
    const endpoint = await findRdsEndpoint(
      client,
      'arn:aws:rds:us-east-1:111122223333:db:awsbackup-restore-test-1a2b',
      evidence,
    );
    expect(endpoint).toEqual({ host: 'restored.abc.us-east-1.rds.amazonaws.com', port: 5432 });
    expect(evidence.entries[0]).toMatchObject({ kind: 'api', operation: 'DescribeDBInstances' });
  });

  it('uses the cluster endpoint for Aurora', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'c',
          Status: 'available',
          Endpoint: 'c.cluster-x.rds.amazonaws.com',
          Port: 5433,
        },
      ],
    });
    const endpoint = await findRdsEndpoint(
      client,
      'arn:aws:rds:us-east-1:111122223333:cluster:c',
      new EvidenceLog(),
    );
    expect(endpoint).toEqual({ host: 'c.cluster-x.rds.amazonaws.com', port: 5433 });
  });

  it('errors when the restored instance is already gone', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .rejects(new DBInstanceNotFoundFault({ message: 'nope', $metadata: {} }));
    await expect(
      findRdsEndpoint(client, 'arn:aws:rds:us-east-1:111122223333:db:x', new EvidenceLog()),
    ).rejects.toThrow('restored instance x: no longer exists (AWS Backup may already have deleted it)');
  });

  it('keeps credentials, database and options while swapping host and port', () => {
    expect(
      restoredConnectionString(
        'postgres://u:p%40ss@prod.abc.rds.amazonaws.com:5432/app?sslmode=verify-full',
        { host: 'r.abc.rds.amazonaws.com', port: 6000 },
      ),
    ).toBe('postgres://u:p%40ss@r.abc.rds.amazonaws.com:6000/app?sslmode=verify-full');
    expect(() => parseRdsArn('arn:aws:s3:::bucket')).toThrow(
      'is not an RDS DB instance or Aurora cluster ARN',
    );
  });
});
