import { describe, expect, it } from 'vitest';
import { keptServicesEnv, renderKeptServicesBlock } from '../../lib/local/kept-services-env.ts';

const kept = {
  awsEnv: {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1111',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2222',
    AWS_ENDPOINT_URL_SNS: 'http://127.0.0.1:2222',
    AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:2222',
  },
  resources: {
    resultsTable: 'results',
    evidenceBucket: 'bucket',
    notificationsTopicArn: 'arn:aws:sns:eu-west-1:000000000000:topic',
    jobsQueueUrl: 'http://sqs.eu-west-1.localhost:2222/000000000000/jobs.fifo',
  },
  databases: { DATABASE_URL: "postgres://u:p'w@127.0.0.1:5/app?sslmode=no-verify" },
};

describe('the --keep variables block', () => {
  it('holds every variable run, export and the AWS CLI v1 and v2 need', () => {
    const env = keptServicesEnv(kept);
    expect(env).toMatchObject({
      SOC2_RESULTS_TABLE: 'results',
      SOC2_EVIDENCE_BUCKET: 'bucket',
      SOC2_NOTIFICATIONS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:000000000000:topic',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1111',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2222',
      AWS_ENDPOINT_URL_SNS: 'http://127.0.0.1:2222',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:2222',
      DATABASE_URL: kept.databases.DATABASE_URL,
    });
  });

  it('is one block a POSIX shell evaluates back to the same values', async () => {
    const block = renderKeptServicesBlock(kept);
    const { execFileSync } = await import('node:child_process');
    const printed = execFileSync('sh', ['-c', `${block}\nenv`], { encoding: 'utf8', env: {} });
    for (const [name, value] of Object.entries(keptServicesEnv(kept))) {
      expect(printed.split('\n')).toContain(`${name}=${value}`);
    }
    expect(block).toMatch(/run --local/);
  });
});
