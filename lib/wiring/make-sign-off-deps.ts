import { makeDynamoChainHeads } from '../adapters/dynamodb/dynamodb-chain-heads.ts';
import { makeDynamoResultsStore } from '../adapters/dynamodb/dynamodb-results.ts';
import { makeS3EvidenceReader, makeS3ObjectReader } from '../adapters/s3/s3-evidence-reader.ts';
import { makeS3EvidenceRecorder } from '../adapters/s3/s3-evidence-recorder.ts';
import { signatureKeyFor } from '../evidence/evidence-layout.ts';
import { parseManifest } from '../evidence/manifest.ts';
import type { ManifestSigner } from '../evidence/signer.ts';
import {
  buildControlReview,
  type ControlReviewInput,
  type ControlReviewRecord,
  controlReviewRun,
  type PeriodEvidenceReader,
} from '../reviews/control-review.ts';
import {
  type SignOffHistory as ChainHistory,
  recordSignOffRun,
  type SignOffRecordingDeps,
} from '../reviews/sign-off.ts';
import {
  type RecordSignOffDeps,
  SIGN_OFF_CHAIN_ID,
  type SignOffHistory,
  signOffFromEvidence,
} from '../risks/sign-off.ts';
import type { StoredEvidence } from '../runs/run-record.ts';
import { newRunId } from '../runs/run-record.ts';
import type { AwsClients } from './aws-clients.ts';
import { makeManifestSigner } from './make-signer.ts';

export interface SignOffDepsInput {
  readonly clients: AwsClients;
  readonly bucket: string;
  /** The results table, which holds the chain heads and the sign-offs' verdicts. */
  readonly table: string;
  readonly timeZone: string;
  /** @default KMS when `signingKeyId` is set, else the process's local key */
  readonly signer?: ManifestSigner;
  readonly signingKeyId?: string;
}

/**
 * A sign-off chain read back from the bucket, newest first: from the chain head, each manifest's
 * evidence document, then its predecessor. Reads only what the chain links, never a listing.
 */
export function makeChainHistory<T>(
  input: Pick<SignOffDepsInput, 'clients' | 'bucket' | 'table'>,
  chainId: string,
  parse: (document: unknown) => T | undefined,
): ChainHistory<T> {
  const reader = makeS3EvidenceReader(input.clients.s3, input.bucket);
  const chain = makeDynamoChainHeads(input.clients.dynamodb, input.table);
  return {
    async list() {
      const records: T[] = [];
      let key = (await chain.read(chainId))?.manifestKey;
      while (key) {
        const manifest = parseManifest(await reader.getBytes(key));
        const artifact = manifest.artifacts[0];
        if (artifact) {
          const record = parse(JSON.parse((await reader.getBytes(artifact.key)).toString('utf8')));
          if (record) records.push(record);
        }
        key = manifest.chain.previous?.key;
      }
      return records;
    },
  };
}

/** The risk register's sign-off chain, newest first. */
export function makeSignOffHistory(
  input: Pick<SignOffDepsInput, 'clients' | 'bucket' | 'table'>,
): SignOffHistory {
  return makeChainHistory(input, SIGN_OFF_CHAIN_ID, signOffFromEvidence);
}

/** The recorder (the same one control evidence uses), the results store and run ids: any sign-off. */
export function makeSignOffRecording(input: SignOffDepsInput): SignOffRecordingDeps {
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
    results: makeDynamoResultsStore(input.clients.dynamodb, input.table),
    newRunId: (at) => newRunId(at),
  };
}

/**
 * A reviewer's sign-off of a control's period (`sign-off --control`, and the demo's quarterly
 * reviews): the review record, appended to the control's review chain with its verdict.
 */
export async function recordControlReview(
  review: ControlReviewInput,
  where: SignOffDepsInput,
): Promise<{ record: ControlReviewRecord; stored: StoredEvidence }> {
  const record = buildControlReview(review);
  const recording = makeSignOffRecording(where);
  const stored = await recordSignOffRun(
    controlReviewRun(record, review.control, {
      timeZone: review.timeZone,
      runId: recording.newRunId(review.at),
    }),
    recording,
  );
  return { record, stored };
}

/** `recordSignOff`'s deps for the risk register: the recording plus the register's history. */
export function makeSignOffDeps(input: SignOffDepsInput): RecordSignOffDeps {
  return { ...makeSignOffRecording(input), history: makeSignOffHistory(input) };
}

/**
 * The evidence of a period's current verdict: the verdict's manifest, its signature and the public
 * key it names, and its artifacts, read from the bucket.
 */
export function makePeriodEvidenceReader(
  input: Pick<SignOffDepsInput, 'clients' | 'bucket' | 'table'>,
): PeriodEvidenceReader {
  const results = makeDynamoResultsStore(input.clients.dynamodb, input.table);
  const read = makeS3ObjectReader(input.clients.s3, input.bucket);
  return {
    async read(controlId, cadence, periodKey) {
      const verdict = await results.verdictFor(controlId, cadence, periodKey);
      if (!verdict) return undefined;
      const manifest = await read(verdict.manifestKey);
      if (!manifest) throw new Error(`${verdict.manifestKey} is missing from the evidence bucket`);
      let publicKeyPem: string | undefined;
      try {
        publicKeyPem = (await read(parseManifest(manifest).signing.publicKeyKey))?.toString('utf8');
      } catch {
        publicKeyPem = undefined; // an unparseable manifest is refused by the domain check
      }
      return {
        manifestKey: verdict.manifestKey,
        manifestSha256: verdict.manifestSha256,
        manifest,
        signature: await read(signatureKeyFor(verdict.manifestKey)).then((sig) =>
          sig ? Buffer.from(sig.toString('utf8').trim(), 'base64') : undefined,
        ),
        ...(publicKeyPem ? { publicKeyPem } : {}),
        readArtifact: read,
      };
    },
  };
}
