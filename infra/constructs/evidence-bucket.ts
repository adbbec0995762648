import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EXPORTS_PREFIX, PUBLIC_KEYS_PREFIX } from '../../lib/evidence/evidence-layout.ts';
import { EVIDENCE_PREFIX } from '../../lib/evidence/evidence-recorder.ts';

/**
 * Key prefixes of the evidence bucket, from the evidence layout (lib/evidence/evidence-layout.ts).
 * Grants are scoped to these, never to the whole bucket. Public keys live inside `evidence/`
 * (`evidence/_public-keys/`), so one `aws s3 sync` of `evidence/` brings everything to verify.
 */
export const EVIDENCE_BUCKET_PREFIXES = {
  evidence: EVIDENCE_PREFIX,
  publicKeys: PUBLIC_KEYS_PREFIX,
  /** Signed checkpoints (functions/checkpoint-writer); must match the writer's layout. */
  checkpoints: 'checkpoints/',
  exports: EXPORTS_PREFIX,
} as const;

/**
 * Prefixes that never leave an instantly readable storage class: every export and every `verify`
 * reads every public key and the checkpoints, whatever range it covers.
 */
export const INSTANTLY_READABLE_PREFIXES = [
  EVIDENCE_BUCKET_PREFIXES.publicKeys,
  EVIDENCE_BUCKET_PREFIXES.checkpoints,
] as const;

/** S3 allows 1000 lifecycle rules per bucket; a few are ours. */
const MAX_ARCHIVED_PREFIXES = 990;

export class ArchivedPrefixError extends Error {
  override name = 'ArchivedPrefixError';
}

/** Storage classes evidence may move to after its active period. */
export type ArchiveStorageClass = 'GLACIER' | 'DEEP_ARCHIVE';

export interface EvidenceBucketProps {
  /** Customer-managed key for SSE-KMS. */
  readonly encryptionKey: kms.IKey;
  /**
   * Prefixes whose objects move to `archiveStorageClass` after `archiveAfterDays`: one per
   * control (`evidence/<control>/`). S3 lifecycle filters cannot exclude a sub-prefix, so archiving
   * `evidence/` as a whole would archive `evidence/_public-keys/` too; none of these may overlap
   * `INSTANTLY_READABLE_PREFIXES`.
   */
  readonly archivedPrefixes: readonly string[];
  /**
   * Object Lock mode of the default retention.
   * @default 'COMPLIANCE' (nobody, not even the root user, can shorten or remove it)
   */
  readonly objectLockMode?: 'COMPLIANCE' | 'GOVERNANCE';
  /**
   * Default retention of every object version, in years.
   * @default 7 ("1 year active, 7 years archive")
   */
  readonly retentionYears?: number;
  /**
   * Days after which evidence moves to `archiveStorageClass`.
   * @default 365
   */
  readonly archiveAfterDays?: number;
  /**
   * Storage class evidence moves to after `archiveAfterDays`.
   * @default 'DEEP_ARCHIVE' (the cheapest; restores take up to 12 hours, fine for audit requests)
   */
  readonly archiveStorageClass?: ArchiveStorageClass;
  /**
   * Days after which exported archives under `exports/` expire (once their retention allows).
   * @default 30
   */
  readonly exportsExpireAfterDays?: number;
  /**
   * What happens to both buckets when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The WORM evidence bucket (Object Lock default retention, versioning, SSE-KMS with a bucket key,
 * public access blocked, TLS only, archive lifecycle) and the separate bucket that receives its
 * server access logs (SSE-S3, which is what S3 log delivery supports).
 */
export class EvidenceBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: EvidenceBucketProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retentionYears = props.retentionYears ?? 7;
    const archiveAfterDays = props.archiveAfterDays ?? 365;
    const storageClass =
      (props.archiveStorageClass ?? 'DEEP_ARCHIVE') === 'GLACIER'
        ? s3.StorageClass.GLACIER
        : s3.StorageClass.DEEP_ARCHIVE;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      // Who read which evidence is kept as long as the evidence itself.
      lifecycleRules: [
        {
          id: 'expire-access-logs-with-the-evidence',
          expiration: Duration.days(retentionYears * 366),
          noncurrentVersionExpiration: Duration.days(30),
        },
      ],
      removalPolicy,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      objectLockEnabled: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'evidence-bucket/',
      // Evidence objects are small JSON; without this, S3 skips transitions for objects under 128 KB.
      transitionDefaultMinimumObjectSize: s3.TransitionDefaultMinimumObjectSize.VARIES_BY_STORAGE_CLASS,
      lifecycleRules: [
        ...archivedPrefixes(props.archivedPrefixes).map((prefix) => ({
          id: `archive-${prefix.replace(/\/+$/, '').replaceAll('/', '-')}`,
          prefix,
          transitions: [{ storageClass, transitionAfter: Duration.days(archiveAfterDays) }],
          noncurrentVersionTransitions: [{ storageClass, transitionAfter: Duration.days(archiveAfterDays) }],
        })),
        {
          id: 'expire-exports',
          prefix: EVIDENCE_BUCKET_PREFIXES.exports,
          expiration: Duration.days(props.exportsExpireAfterDays ?? 30),
          noncurrentVersionExpiration: Duration.days(1),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
    });

    // Years (not days) so the template reads exactly as the retention policy is written.
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.objectLockConfiguration = {
      objectLockEnabled: 'Enabled',
      rule: { defaultRetention: { mode: props.objectLockMode ?? 'COMPLIANCE', years: retentionYears } },
    };
  }
}

/** The archived prefixes, checked: unique, within the rule limit, never over a must-stay-readable one. */
function archivedPrefixes(prefixes: readonly string[]): string[] {
  const unique = [...new Set(prefixes)];
  if (unique.length > MAX_ARCHIVED_PREFIXES) {
    throw new ArchivedPrefixError(
      `${unique.length} archived prefixes exceed the ${MAX_ARCHIVED_PREFIXES} S3 lifecycle rules available`,
    );
  }
  for (const prefix of unique) {
    if (!prefix.endsWith('/')) throw new ArchivedPrefixError(`archived prefix "${prefix}" must end in "/"`);
    const overlap = INSTANTLY_READABLE_PREFIXES.find(
      (kept) => kept.startsWith(prefix) || prefix.startsWith(kept),
    );
    if (overlap) {
      throw new ArchivedPrefixError(
        `archived prefix "${prefix}" would archive ${overlap}, which must stay readable`,
      );
    }
  }
  return unique;
}
