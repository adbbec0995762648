import { makeS3ObjectStore } from '../adapters/s3/s3-object-store.ts';
import type { Config } from '../config/schema.ts';
import type { ControlPorts, PostgresPort } from '../controls/ports.ts';
import { makeVerdictHistory } from '../controls/verdict-history.ts';
import type { ResultsStore } from '../runs/results-store.ts';
import type { AwsClients } from './aws-clients.ts';

/** The ports every control test may use, without the AWS account APIs (`makeControlPorts` adds them; the worker
 * Lambda adds `lazyAwsApiPorts`). Its own module so the worker's bundle does not reach those adapters. */
export function makeBaseControlPorts(
  config: Config,
  clients: Pick<AwsClients, 's3'>,
  postgres: PostgresPort,
  results: ResultsStore,
  bucket: string,
): ControlPorts {
  return {
    postgres,
    objects: makeS3ObjectStore(clients.s3, bucket),
    verdictHistory: makeVerdictHistory(config.controls, results),
  };
}
