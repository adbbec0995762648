import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ChainHead, ChainHeadStore } from '../../evidence/chain-head-store.ts';
import { MANIFEST_FILE, publicKeyKey, RESULT_FILE, SIGNATURE_FILE } from '../../evidence/evidence-layout.ts';
import { type EvidenceRecorder, runPrefix } from '../../evidence/evidence-recorder.ts';
import { buildManifest, serializeManifest } from '../../evidence/manifest.ts';
import type { ManifestSigner } from '../../evidence/signer.ts';
import type { RunResult, StoredEvidence } from '../../runs/run-record.ts';
import { sha256Hex } from '../../shared/canonical-json.ts';
import { TOOL_VERSION } from '../../shared/version.ts';

/** Writes an object once: `If-None-Match: *` refuses to overwrite evidence that already exists. */
export async function putImmutable(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
  contentType = 'application/json',
): Promise<string> {
  const sha256 = sha256Hex(body);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
      IfNoneMatch: '*',
    }),
  );
  return sha256;
}

/** The evidence document of one attempt: what was checked, how, what came back, and the verdict. */
export function evidenceDocument(run: RunResult): Record<string, unknown> {
  return {
    kind: 'soc2-evidence/result',
    schemaVersion: 1,
    tool: { name: 'soc2-evidence', version: TOOL_VERSION },
    control: { id: run.controlId, criteria: run.criteria, owner: run.owner },
    period: { cadence: run.cadence, key: run.periodKey, start: run.periodStart, end: run.periodEnd },
    runId: run.runId,
    asOf: run.asOf,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    verdict: run.outcome.verdict,
    reasons: run.outcome.reasons,
    warnings: run.outcome.warnings,
    figures: run.outcome.figures,
    details: run.outcome.details,
    checks: run.entries,
  };
}

export interface S3EvidenceRecorderOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** KMS in AWS, a local key in `npm start` and tests. */
  readonly signer: ManifestSigner;
  /** Chain heads (DynamoDB `CONTROL#<id>` / `CHAIN`). */
  readonly chain: ChainHeadStore;
  /** The config's time zone, in which periods are cut. @default 'UTC' */
  readonly timeZone?: string;
}

function isAlreadyThere(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return (
    name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409
  );
}

/**
 * Records one run as tamper-evident evidence, in an order that survives a crash at any step:
 * 1. the artifact (`result.json`);
 * 2. the signing key's public half, once per process (write-once, beside the evidence);
 * 3. the manifest (every artifact's key, size and SHA-256; control, period, verdict; the previous
 *    manifest's hash and signature) and its signature `manifest.sig`;
 * 4. the chain head, with a conditional write on the sequence number.
 *
 * A crash before 3 leaves an artifact no manifest lists (`verify` reports it as unsealed). A crash
 * between 3 and 4, or a lost race at 4 ({@link ChainConflictError}, the job is retried), leaves an
 * orphan: a valid signed manifest that a later manifest with the same sequence supersedes. `verify`
 * lists orphans as notes; they never break the chain, because the head never pointed at them.
 * Every run writes a manifest, `error` verdicts included, so a period without one is provably missing.
 */
export function makeS3EvidenceRecorder(options: S3EvidenceRecorderOptions): EvidenceRecorder {
  const { s3, bucket, signer, chain } = options;
  const timeZone = options.timeZone ?? 'UTC';
  let publishedKey: Promise<string> | undefined;

  const publishPublicKey = (): Promise<string> => {
    publishedKey ??= signer
      .publicKey()
      .then(async (info) => {
        const key = publicKeyKey(info.fingerprint);
        await putImmutable(s3, bucket, key, info.pem, 'application/x-pem-file').catch((error: unknown) => {
          if (!isAlreadyThere(error)) throw error;
        });
        return info.fingerprint;
      })
      .catch((error: unknown) => {
        publishedKey = undefined;
        throw error;
      });
    return publishedKey;
  };

  return {
    async record(run) {
      const prefix = runPrefix(run);
      const head = await chain.read(run.controlId);

      const evidenceKey = `${prefix}${RESULT_FILE}`;
      const body = Buffer.from(`${JSON.stringify(evidenceDocument(run), null, 2)}\n`, 'utf8');
      const evidenceSha256 = await putImmutable(s3, bucket, evidenceKey, body);
      const fingerprint = await publishPublicKey();

      const sequence = (head?.sequence ?? 0) + 1;
      const manifest = buildManifest({
        run,
        timeZone,
        artifacts: [
          { key: evidenceKey, size: body.length, sha256: evidenceSha256, contentType: 'application/json' },
        ],
        sequence,
        previous: head
          ? {
              sequence: head.sequence,
              key: head.manifestKey,
              sha256: head.manifestSha256,
              signature: head.signature,
              periodKey: head.periodKey,
            }
          : null,
        keyFingerprint: fingerprint,
        publicKeyKey: publicKeyKey(fingerprint),
      });
      const manifestBytes = serializeManifest(manifest);
      const signature = Buffer.from(await signer.sign(manifestBytes)).toString('base64');
      const manifestKey = `${prefix}${MANIFEST_FILE}`;
      const manifestSha256 = await putImmutable(s3, bucket, manifestKey, manifestBytes);
      await putImmutable(s3, bucket, `${prefix}${SIGNATURE_FILE}`, signature, 'text/plain');

      const next: ChainHead = {
        controlId: run.controlId,
        sequence,
        manifestKey,
        manifestSha256,
        signature,
        cadence: run.cadence,
        periodKey: run.periodKey,
        collectedAt: manifest.collectedAt,
      };
      await chain.advance(next, head?.sequence ?? 0);
      return { evidenceKey, evidenceSha256, manifestKey, manifestSha256 } satisfies StoredEvidence;
    },
  };
}
