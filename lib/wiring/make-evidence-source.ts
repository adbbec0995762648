import { makeS3EvidenceReader } from '../adapters/s3/s3-evidence-reader.ts';
import type { EvidenceSource } from '../audit/sample-source.ts';
import { type AwsClients, makeAwsClients } from './aws-clients.ts';

/** The evidence bucket as an evidence source for `sample` (AWS, or the emulators via AWS_ENDPOINT_URL*). */
export function makeBucketEvidenceSource(
  bucket: string,
  env: Readonly<Record<string, string | undefined>>,
  clients: Pick<AwsClients, 's3'> = makeAwsClients(env),
): EvidenceSource {
  return makeS3EvidenceReader(clients.s3, bucket);
}
