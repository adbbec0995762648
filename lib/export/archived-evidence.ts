import type { StoredObject } from './evidence-reader.ts';

/**
 * Storage classes whose objects S3 will not serve (GetObject answers `InvalidObjectState`) until a
 * restore made a temporary copy. The evidence lifecycle moves `evidence/<control>/` to one of them.
 */
export const ARCHIVE_STORAGE_CLASSES = ['GLACIER', 'DEEP_ARCHIVE'] as const;
export type ArchiveStorageClass = (typeof ARCHIVE_STORAGE_CLASSES)[number];

export function isArchiveStorageClass(storageClass: string | undefined): storageClass is ArchiveStorageClass {
  return (ARCHIVE_STORAGE_CLASSES as readonly string[]).includes(storageClass ?? '');
}

export const RESTORE_TIERS = ['Bulk', 'Standard', 'Expedited'] as const;
export type RestoreTier = (typeof RESTORE_TIERS)[number];

/**
 * What each retrieval tier costs (relative; prices per GB and per 1,000 requests vary by region, see
 * S3 pricing) and how long S3 typically takes per storage class (S3 User Guide, "Understanding
 * archive retrieval options"). Expedited does not exist for DEEP_ARCHIVE.
 */
export const RESTORE_TIER_INFO: Readonly<
  Record<
    RestoreTier,
    { readonly cost: string; readonly wait: Readonly<Record<ArchiveStorageClass, string | undefined>> }
  >
> = {
  Bulk: { cost: 'lowest cost', wait: { GLACIER: '5-12 hours', DEEP_ARCHIVE: 'up to 48 hours' } },
  Standard: {
    cost: 'mid cost, the S3 default',
    wait: { GLACIER: '3-5 hours', DEEP_ARCHIVE: 'up to 12 hours' },
  },
  Expedited: { cost: 'highest cost', wait: { GLACIER: '1-5 minutes', DEEP_ARCHIVE: undefined } },
};

export const DEFAULT_RESTORE_TIER: RestoreTier = 'Standard';

/**
 * Days a restored copy stays readable: time to come back and export (it is billed as standard
 * storage meanwhile; the archived object itself is never changed).
 */
export const RESTORED_COPY_DAYS = 7;

/** Where an archived object's restore stands (HeadObject's `Restore` header). */
export type RestoreStatus = 'not-requested' | 'in-progress' | 'restored';

/** What export needs beyond reading to handle archived evidence: HeadObject and RestoreObject. */
export interface ArchiveAccess {
  restoreStatus(key: string): Promise<RestoreStatus>;
  /** `in-progress` when S3 answers `RestoreAlreadyInProgress` (someone asked already): not an error. */
  requestRestore(key: string, tier: RestoreTier, days: number): Promise<'requested' | 'in-progress'>;
}

/** Which part of the archive an object is: evidence, or one of the files every export needs. */
export type ArchivedRole = 'evidence' | 'public-key' | 'checkpoint';

export interface ArchivedObject extends StoredObject {
  readonly storageClass: ArchiveStorageClass;
  readonly role: ArchivedRole;
  readonly status: RestoreStatus;
}

/** What an export found archived, before it wrote anything. */
export interface ArchivedSummary {
  readonly count: number;
  readonly bytes: number;
  readonly storageClasses: readonly ArchiveStorageClass[];
  /** By last modification (the lifecycle archives by age); by key when S3 gave no dates. */
  readonly oldest: ArchivedObject;
  readonly newest: ArchivedObject;
  readonly notRequested: number;
  readonly inProgress: number;
  readonly restored: number;
  /**
   * Public keys and checkpoints found archived: the lifecycle never archives them, so someone
   * changed their storage class; every export needs them.
   */
  readonly unexpected: readonly ArchivedObject[];
}

/** Archived objects in the range, no restore asked for: nothing was written. */
export class ArchivedEvidenceError extends Error {
  override name = 'ArchivedEvidenceError';
  constructor(
    readonly summary: ArchivedSummary,
    options?: ErrorOptions,
  ) {
    super(
      `${summary.count} object(s) of the export are archived (${summary.storageClasses.join(', ')}) and not restored`,
      options,
    );
  }
}

/** Restores requested or under way: come back later, nothing was written. */
export class RestorePendingError extends Error {
  override name = 'RestorePendingError';
  constructor(
    readonly summary: ArchivedSummary,
    /** This run's outcome: restores it requested, restores already under way, copies readable. */
    readonly outcome: { readonly requested: number; readonly inProgress: number; readonly ready: number },
    readonly tier: RestoreTier | undefined,
  ) {
    super(
      `${summary.count - outcome.ready} of ${summary.count} archived object(s) are not restored yet: ${outcome.requested} requested now, ${outcome.inProgress} in progress, ${outcome.ready} ready`,
    );
  }
}

/** A tier S3 does not offer for some of the objects (Expedited for DEEP_ARCHIVE). */
export class RestoreTierError extends Error {
  override name = 'RestoreTierError';
}

export interface ArchivedCandidate extends StoredObject {
  readonly role: ArchivedRole;
}

/** Runs `task` over `items`, at most `limit` at a time, keeping the order of `items` in the results. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The archived objects among `candidates` (by the listing's storage class), each with its restore status. */
export async function findArchived(
  candidates: readonly ArchivedCandidate[],
  access: ArchiveAccess,
  concurrency = 16,
): Promise<ArchivedObject[]> {
  const archived = candidates.filter(
    (object): object is ArchivedCandidate & { storageClass: ArchiveStorageClass } =>
      isArchiveStorageClass(object.storageClass),
  );
  return mapLimited(archived, concurrency, async (object) => ({
    ...object,
    status: await access.restoreStatus(object.key),
  }));
}

const age = (object: ArchivedObject) => object.lastModified?.getTime();

export function summarizeArchived(objects: readonly ArchivedObject[]): ArchivedSummary | undefined {
  const [first] = objects;
  if (!first) return undefined;
  let oldest = first;
  let newest = first;
  const dated = objects.every((object) => age(object) !== undefined);
  for (const object of objects) {
    const older = dated ? (age(object) ?? 0) < (age(oldest) ?? 0) : object.key < oldest.key;
    const newer = dated ? (age(object) ?? 0) > (age(newest) ?? 0) : object.key > newest.key;
    if (older) oldest = object;
    if (newer) newest = object;
  }
  const count = (status: RestoreStatus) => objects.filter((object) => object.status === status).length;
  return {
    count: objects.length,
    bytes: objects.reduce((sum, object) => sum + object.size, 0),
    storageClasses: ARCHIVE_STORAGE_CLASSES.filter((c) =>
      objects.some((object) => object.storageClass === c),
    ),
    oldest,
    newest,
    notRequested: count('not-requested'),
    inProgress: count('in-progress'),
    restored: count('restored'),
    unexpected: objects.filter((object) => object.role !== 'evidence'),
  };
}

export interface RestorePlan {
  readonly tier: RestoreTier;
  /** @default RESTORED_COPY_DAYS */
  readonly days?: number;
}

/**
 * Decides whether the export can go ahead: yes when nothing is archived or every archived object's
 * restored copy is readable. Otherwise throws, before anything was written: {@link ArchivedEvidenceError}
 * when restores are needed and not asked for, {@link RestorePendingError} after asking S3 for them
 * with `restore` (idempotent: objects already restoring or restored are not asked for again) or
 * when restores asked for earlier are still running.
 */
export async function settleArchived(
  archived: readonly ArchivedObject[],
  access: ArchiveAccess,
  restore: RestorePlan | undefined,
  concurrency = 16,
): Promise<void> {
  const summary = summarizeArchived(archived);
  if (!summary || summary.restored === summary.count) return;
  if (!restore) {
    if (summary.notRequested > 0) throw new ArchivedEvidenceError(summary);
    throw new RestorePendingError(
      summary,
      { requested: 0, inProgress: summary.inProgress, ready: summary.restored },
      undefined,
    );
  }
  const needed = archived.filter((object) => object.status === 'not-requested');
  const unavailable = needed.filter(
    (object) => RESTORE_TIER_INFO[restore.tier].wait[object.storageClass] === undefined,
  );
  if (unavailable.length > 0) {
    const classes = [...new Set(unavailable.map((object) => object.storageClass))].join(', ');
    throw new RestoreTierError(
      `the ${restore.tier} tier is not available for ${classes} (${unavailable.length} object(s), e.g. ${unavailable[0]?.key}); use ${RESTORE_TIERS.filter((tier) => unavailable.every((object) => RESTORE_TIER_INFO[tier].wait[object.storageClass] !== undefined)).join(' or ')}`,
    );
  }
  const answers = await mapLimited(needed, concurrency, (object) =>
    access.requestRestore(object.key, restore.tier, restore.days ?? RESTORED_COPY_DAYS),
  );
  const requested = answers.filter((answer) => answer === 'requested').length;
  throw new RestorePendingError(
    summary,
    { requested, inProgress: summary.inProgress + (answers.length - requested), ready: summary.restored },
    restore.tier,
  );
}
