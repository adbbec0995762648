import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RunResult, StoredEvidence } from '../runs/run-record.ts';
import { TOOL_VERSION } from '../version.ts';
import { canonicalJson, sha256Hex } from './canonical-json.ts';
import { type EvidenceRecorder, runPrefix } from './evidence-recorder.ts';

/** Writes an object once: `If-None-Match: *` refuses to overwrite evidence that already exists. */
export async function putImmutable(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string,
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

export function makeS3EvidenceRecorder(s3: S3Client, bucket: string): EvidenceRecorder {
  return {
    async record(run) {
      const prefix = runPrefix(run);
      const evidenceKey = `${prefix}result.json`;
      const body = `${JSON.stringify(evidenceDocument(run), null, 2)}\n`;
      const evidenceSha256 = await putImmutable(s3, bucket, evidenceKey, body);
      const manifest = canonicalJson({
        kind: 'soc2-evidence/manifest',
        controlId: run.controlId,
        period: { cadence: run.cadence, key: run.periodKey },
        runId: run.runId,
        verdict: run.outcome.verdict,
        collectedAt: run.finishedAt,
        artifacts: [{ key: evidenceKey, size: Buffer.byteLength(body), sha256: evidenceSha256 }],
        tool: { name: 'soc2-evidence', version: TOOL_VERSION },
      });
      const manifestKey = `${prefix}manifest.json`;
      const manifestSha256 = await putImmutable(s3, bucket, manifestKey, manifest);
      return { evidenceKey, evidenceSha256, manifestKey, manifestSha256 } satisfies StoredEvidence;
    },
  };
}
