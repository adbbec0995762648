import { makeDynamoChainHeads } from '../adapters/dynamodb/dynamodb-chain-heads.ts';
import { makeS3EvidenceReader } from '../adapters/s3/s3-evidence-reader.ts';
import { makeS3EvidenceRecorder } from '../adapters/s3/s3-evidence-recorder.ts';
import { parseManifest } from '../evidence/manifest.ts';
import type { ManifestSigner } from '../evidence/signer.ts';
import {
  type RecordSignOffDeps,
  SIGN_OFF_CHAIN_ID,
  type SignOffHistory,
  type SignOffRecord,
  signOffFromEvidence,
} from '../risks/sign-off.ts';
import { newRunId } from '../runs/run-record.ts';
import type { AwsClients } from './aws-clients.ts';
import { makeManifestSigner } from './make-signer.ts';

export interface SignOffDepsInput {
  readonly clients: AwsClients;
  readonly bucket: string;
  /** The results table, which holds the chain heads. */
  readonly table: string;
  readonly timeZone: string;
  /** @default KMS when `signingKeyId` is set, else the process's local key */
  readonly signer?: ManifestSigner;
  readonly signingKeyId?: string;
}

/**
 * The sign-off chain read back from the bucket, newest first: from the chain head, each manifest's
 * evidence document, then its predecessor. Reads only what the chain links, never a listing.
 */
export function makeSignOffHistory(
  input: Pick<SignOffDepsInput, 'clients' | 'bucket' | 'table'>,
): SignOffHistory {
  const reader = makeS3EvidenceReader(input.clients.s3, input.bucket);
  const chain = makeDynamoChainHeads(input.clients.dynamodb, input.table);
  return {
    async list() {
      const records: SignOffRecord[] = [];
      let key = (await chain.read(SIGN_OFF_CHAIN_ID))?.manifestKey;
      while (key) {
        const manifest = parseManifest(await reader.getBytes(key));
        const artifact = manifest.artifacts[0];
        if (artifact) {
          const record = signOffFromEvidence(
            JSON.parse((await reader.getBytes(artifact.key)).toString('utf8')),
          );
          if (record) records.push(record);
        }
        key = manifest.chain.previous?.key;
      }
      return records;
    },
  };
}

/** The recorder (the same one control evidence uses), the history and run ids for `recordSignOff`. */
export function makeSignOffDeps(input: SignOffDepsInput): RecordSignOffDeps {
  return {
    recorder: makeS3EvidenceRecorder({
      s3: input.clients.s3,
      bucket: input.bucket,
      signer:
        input.signer ??
        makeManifestSigner({
          kms: input.clients.kms,
          ...(input.signingKeyId ? { signingKeyId: input.signingKeyId } : {}),
        }),
      chain: makeDynamoChainHeads(input.clients.dynamodb, input.table),
      timeZone: input.timeZone,
    }),
    history: makeSignOffHistory(input),
    newRunId: (at) => newRunId(at),
  };
}
