import * as z from 'zod';
import { needs, s3ReadNeed } from './control-needs.ts';
import type { ControlContext, ControlTest } from './control-test.ts';
import { periodCutoff } from './evaluation-time.ts';
import { bucketNameSchema, bucketOf, keyPrefixSchema, s3Uri } from './object-location.ts';
import { type ControlOutcome, outcome } from './outcome.ts';
import { requirePort, type StoredObject } from './ports.ts';

export const manualAttestationParamsSchema = z.strictObject({
  type: z.literal('manual-attestation'),
  bucket: bucketNameSchema
    .optional()
    .describe("Bucket people upload evidence to. deployment's evidence bucket"),
  prefix: keyPrefixSchema.describe(
    "Where the evidence is uploaded, e.g. `attestations/incident-response/`. `{period}` is replaced by the period key (`attestations/incident-response/{period}/` -> `.../2026/`); with it, any upload into the period's folder counts, even one made after the period ended (its time is in the evidence).",
  ),
  expects: z
    .string()
    .min(1)
    .max(300)
    .default('evidence of the activity')
    .describe('What the owner must provide, quoted in the failure so the reminder says what to upload.'),
  minObjects: z.number().int().min(1).max(100).default(1).describe('Distinct non-empty objects required.'),
  maxObjects: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(20)
    .describe('Objects fingerprinted into the evidence at most.'),
});
export type ManualAttestationParams = z.output<typeof manualAttestationParamsSchema>;

async function run(params: ManualAttestationParams, context: ControlContext): Promise<ControlOutcome> {
  const objects = requirePort(context.ports.objects, 'S3 object reader (objects port)');
  const { period } = context;
  const bucket = bucketOf(params.bucket, objects);
  const periodFolder = params.prefix.includes('{period}');
  const prefix = params.prefix.replaceAll('{period}', period.key);
  const location = s3Uri(bucket, prefix);
  // Without a per-period folder, the upload time is the only link to the period. With one, the
  // folder is the link: a late upload still counts (its upload time is in the evidence).
  const windowStart = periodFolder ? Number.NEGATIVE_INFINITY : period.start.getTime();
  const windowEnd = periodFolder ? Number.POSITIVE_INFINITY : periodCutoff(context).getTime();

  const listed = await objects.list(bucket, prefix, context.evidence);
  // `folder/` keys (the S3 console's folder markers) are neither evidence nor a late upload.
  const uploads = listed.filter((object) => !object.key.endsWith('/'));
  const inWindow = (object: StoredObject) =>
    object.lastModified.getTime() >= windowStart && object.lastModified.getTime() < windowEnd;
  const candidates = uploads.filter(inWindow).sort((a, b) => a.key.localeCompare(b.key));
  const empty = candidates.filter((object) => object.size === 0);
  const accepted = candidates.filter((object) => object.size > 0);

  // Enough objects are fingerprinted to prove the minimum: a copy of the same document under
  // another key is not a second piece of evidence, so objects count by content.
  const fingerprinted: { key: string; size: number; lastModified: string; sha256: string }[] = [];
  for (const object of accepted.slice(0, Math.max(params.maxObjects, params.minObjects))) {
    const { sha256, size } = await objects.fingerprint(object, context.evidence);
    fingerprinted.push({ key: object.key, size, lastModified: object.lastModified.toISOString(), sha256 });
  }

  const reasons: string[] = [];
  const warnings: string[] = [];
  const distinct = new Set(fingerprinted.map((object) => object.sha256)).size;
  const duplicates = fingerprinted.length - distinct;
  if (distinct < params.minObjects) {
    const window = periodFolder ? `for ${period.key}` : `during ${period.key}`;
    reasons.push(
      `evidence not provided: expected ${params.expects} uploaded under ${location} ${window}` +
        (params.minObjects > 1
          ? ` (${distinct} of ${params.minObjects} distinct objects${duplicates > 0 ? `; ${duplicates} duplicate` : ''})`
          : ''),
    );
  }
  if (empty.length > 0)
    warnings.push(`${empty.length} empty objects under ${location} were not counted as evidence`);
  const outside = uploads.length - candidates.length;
  if (outside > 0 && distinct < params.minObjects) {
    warnings.push(
      `${outside} objects under ${location} were uploaded outside ${period.key} and do not count for it`,
    );
  }

  return outcome({
    reasons,
    warnings,
    figures: { objects: accepted.length, required: params.minObjects },
    details: {
      location,
      window: {
        from: Number.isFinite(windowStart) ? new Date(windowStart).toISOString() : null,
        to: Number.isFinite(windowEnd) ? new Date(windowEnd).toISOString() : null,
      },
      expects: params.expects,
      accepted: fingerprinted,
      acceptedNotFingerprinted: Math.max(0, accepted.length - fingerprinted.length),
      emptyObjects: empty.map((object) => object.key),
      listedObjects: listed.length,
    },
  });
}

export const manualAttestation: ControlTest<ManualAttestationParams> = {
  type: 'manual-attestation',
  description:
    'Manual attestation: evidence of a manual activity (e.g. an incident-response tabletop) uploaded for the period.',
  paramsSchema: manualAttestationParamsSchema,
  needs: (params) => needs({ s3Reads: [s3ReadNeed(params.bucket, params.prefix, 'prefix')] }),
  run,
};
