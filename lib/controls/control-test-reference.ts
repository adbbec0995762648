import type { ControlTestType } from './registry.ts';

/**
 * What each test type reads and the privileges that lets it see everything, for the generated
 * reference (docs/control-tests.md). Keyed by every registered type, so a new type does not compile
 * until it is documented. Parameters are documented in their zod schemas (`.describe()`), not here.
 */
export interface ControlTestReference {
  /** The statements and API calls a run makes, in order. */
  readonly reads: readonly string[];
  /** Grants that make the run see all it must (fewer is an `error`, never a quiet `pass`). */
  readonly privileges: readonly string[];
}

export const CONTROL_TEST_REFERENCE: Readonly<Record<ControlTestType, ControlTestReference>> = {
  'log-completeness': {
    reads: [
      'catalog: the table, its columns and their types (`pg_class`, `pg_attribute`, `pg_type`), and whether a btree index leads with the timestamp (`pg_index`)',
      "one pass over the period's rows plus the last event before it and the first after it (silences that cross the period boundary are measured whole), grouped by action and outcome",
      'the oldest row (retention) and rows after the check instant (future events)',
    ],
    privileges: [
      '`SELECT` on the audit-log table (the timestamp, user, action, resource and success columns)',
      'a btree index leading with the timestamp column keeps the run to the period (without it every run scans the table; the evidence says so)',
    ],
  },
  'secret-rotation': {
    reads: [
      'audit log (when a secret has `resourceId`): the columns and types, then the newest successful rotation event per resource before the check instant',
      'Secrets Manager `DescribeSecret` per `secretId` (metadata only: `LastRotatedDate`, `RotationEnabled`; never the value)',
      'IAM `ListAccessKeys` per `iamUser` (every active key must be within the limit; the oldest decides)',
    ],
    privileges: [
      '`SELECT` on the audit-log columns',
      '`secretsmanager:DescribeSecret` on each configured secret (granted by the stack from the config)',
      '`iam:ListAccessKeys` on each configured user',
    ],
  },
  'vulnerability-scan': {
    reads: [
      'S3 `ListObjectsV2` under `prefix`, then `GetObject` of the Trivy JSON reports in the window',
      'strict report schema: `SchemaVersion` 2, `CreatedAt` present and not in the future, every result with its target and class',
    ],
    privileges: ['`s3:ListBucket` on the prefix and `s3:GetObject` below it (granted by the stack)'],
  },
  'access-review': {
    reads: [
      'catalog: the accounts table columns and types (`information_schema.columns`)',
      'counts of accounts, enabled accounts, dormant enabled accounts and accounts active after their removal date, then the listed accounts (up to `maxListed` per finding)',
      'with `loginEvents`: the newest successful login per account from the audit log',
    ],
    privileges: ['`SELECT` on the accounts table (and on the audit log with `loginEvents`)'],
  },
  'manual-attestation': {
    reads: [
      "S3 `ListObjectsV2` under the period's prefix (`{period}` filled in), then the SHA-256 of every upload (streamed)",
    ],
    privileges: ['`s3:ListBucket` on the prefix and `s3:GetObject` below it (granted by the stack)'],
  },
  'schedule-health': {
    reads: [
      "the results table: every control's verdicts and attempts since it was added (within `lookback`)",
    ],
    privileges: ['none beyond the runner role (`dynamodb:Query` on the results table)'],
  },
  'restore-verification': {
    reads: [
      'restore log (or the fixed `recoveryPoint`): the newest completed restore whose recovery point falls in the period',
      'on both databases, per schema: tables, columns, primary keys (`information_schema`), then per table the row count and a checksum of the primary keys in buckets, and the keys of differing buckets',
      "the source's newest row before the recovery point (RPO) and the restore's start and end (RTO)",
    ],
    privileges: [
      '`SELECT` on every table of the compared schemas, on both databases',
      '`SELECT` on the restore log table',
    ],
  },
  'restore-test-history': {
    reads: [
      'AWS Backup `ListRestoreJobs` for the restore testing plans, in the period',
      "the restore validator's own evidence (`events` chain) for each completed job",
    ],
    privileges: ['`backup:ListRestoreJobs` (the API takes no resource ARN: granted on `*`)'],
  },
  'encryption-config': {
    reads: [
      "server settings: `ssl`, `ssl_min_protocol_version`, `password_encryption`, and the checking role's attributes",
      "`pg_stat_activity` joined with `pg_stat_ssl`: every client session's TLS state and version, the checking session's own",
    ],
    privileges: [
      "`pg_read_all_stats` (or `pg_monitor`): without it other roles' sessions have a NULL `backend_type` and their TLS state cannot be seen (`error`, or `fail` with `strict`)",
    ],
  },
};
