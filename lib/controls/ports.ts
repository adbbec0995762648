import type { AttemptRecord, VerdictRecord } from '../runs/run-record.ts';
import type { Cadence } from '../shared/period.ts';
import type { ControlDefinition } from './control-definition.ts';
import { ControlCheckError, type EvidenceLog } from './outcome.ts';
import type { DatabaseIdentity } from './population.ts';

/** A read-only SQL session on one named target; every query is recorded in the evidence. */
export interface ReadOnlySession {
  query<Row extends Record<string, unknown>>(
    label: string,
    text: string,
    params?: readonly unknown[],
  ): Promise<Row[]>;
  /**
   * The rows one at a time through a server-side cursor (`DECLARE ... CURSOR`, `FETCH` in batches
   * inside the same read-only transaction), so a million rows never sit in memory. The evidence
   * records the query and how many rows it streamed, not the rows (they are the population).
   * Leaving the loop early closes the cursor.
   */
  stream<Row extends Record<string, unknown>>(
    label: string,
    text: string,
    params?: readonly unknown[],
    options?: { readonly batchSize?: number },
  ): AsyncIterable<Row>;
  /** Which database this session reads: `system_identifier`, server version and name. */
  identity(): Promise<DatabaseIdentity>;
}

/** Opens read-only, statement-time-limited transactions on the configured PostgreSQL targets. */
export interface PostgresPort {
  withReadOnlySession<T>(
    target: string,
    evidence: EvidenceLog,
    work: (session: ReadOnlySession) => Promise<T>,
  ): Promise<T>;
}

/** One object in a bucket, as listed (no body). */
export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

/**
 * Reads customer-provided inputs from S3 (scanner reports, attestation uploads). Listing and reads
 * are recorded in the evidence; a missing bucket or a denied read throws `ControlCheckError`.
 */
export interface ObjectStorePort {
  /** The bucket used when a test names none (the evidence bucket of the deployment). */
  readonly defaultBucket: string;
  /** Every object under the prefix (all pages), in no particular order. */
  list(bucket: string, prefix: string, evidence: EvidenceLog): Promise<StoredObject[]>;
  /** The whole body as text, for small documents such as scanner reports. */
  readText(object: StoredObject, evidence: EvidenceLog, options?: { maxBytes?: number }): Promise<string>;
  /** SHA-256 of the body, streamed (attestation uploads may be large PDFs). */
  fingerprint(object: StoredObject, evidence: EvidenceLog): Promise<{ sha256: string; size: number }>;
}

/** Secrets Manager's view of one secret (metadata only; the value is never read by control tests). */
export interface SecretDescription {
  readonly name: string;
  readonly arn: string;
  readonly rotationEnabled: boolean;
  readonly lastRotatedDate?: Date;
  readonly lastChangedDate?: Date;
  readonly createdDate?: Date;
  /** Set when the secret is scheduled for deletion (inside its recovery window). */
  readonly deletedDate?: Date;
}

export interface SecretsInventoryPort {
  /** `undefined` when the secret does not exist (ResourceNotFoundException). */
  describeSecret(secretId: string, evidence: EvidenceLog): Promise<SecretDescription | undefined>;
}

export interface AccessKeyDescription {
  readonly accessKeyId: string;
  /** `Active` or `Inactive`. */
  readonly status: string;
  readonly createDate: Date;
}

export interface AccessKeysPort {
  /** `undefined` when the IAM user does not exist (NoSuchEntity). */
  listAccessKeys(userName: string, evidence: EvidenceLog): Promise<AccessKeyDescription[] | undefined>;
}

/** One AWS Backup restore job, as listed. */
export interface RestoreJobSummary {
  readonly restoreJobId: string;
  readonly status: string;
  readonly statusMessage?: string;
  readonly resourceType?: string;
  readonly sourceResourceArn?: string;
  readonly createdResourceArn?: string;
  readonly restoreTestingPlanArn?: string;
  readonly creationDate?: Date;
  readonly completionDate?: Date;
  readonly recoveryPointCreationDate?: Date;
  readonly validationStatus?: string;
  readonly validationStatusMessage?: string;
}

export interface RestoreTestsPort {
  /** Restore jobs created in [createdAfter, createdBefore), every page. */
  listRestoreJobs(
    range: { readonly createdAfter: Date; readonly createdBefore: Date },
    evidence: EvidenceLog,
  ): Promise<RestoreJobSummary[]>;
}

/** Our own verdict history (DynamoDB Query only), plus the controls the deployment schedules. */
export interface VerdictHistoryPort {
  readonly controls: readonly ControlDefinition[];
  /** Every stored verdict of a control (or the `limit` newest), newest period first. */
  verdictsOf(
    controlId: string,
    evidence: EvidenceLog,
    options?: { limit?: number },
  ): Promise<VerdictRecord[]>;
  attemptsFor(
    controlId: string,
    cadence: Cadence,
    periodKey: string,
    evidence: EvidenceLog,
  ): Promise<AttemptRecord[]>;
}

/**
 * Everything a control test may touch. Optional ports are absent where the deployment has no such
 * source; a test that needs a missing port reports `error`, never `pass`.
 */
export interface ControlPorts {
  readonly postgres: PostgresPort;
  readonly objects?: ObjectStorePort;
  readonly secrets?: SecretsInventoryPort;
  readonly accessKeys?: AccessKeysPort;
  readonly restoreTests?: RestoreTestsPort;
  readonly verdictHistory?: VerdictHistoryPort;
}

/** Returns the port, or throws the `error` a test must give when its source is not wired in. */
export function requirePort<P>(port: P | undefined, what: string): P {
  if (port === undefined) {
    throw new ControlCheckError(`this deployment provides no ${what}, so the control cannot be checked`);
  }
  return port;
}
