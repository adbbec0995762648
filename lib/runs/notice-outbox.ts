import type { Notification, Notifier } from '../notify/notification.ts';

/**
 * Notices (failure notifications, reminder digests) go through an outbox: stored first, beside the
 * verdict or the ledger they belong to, then published, then marked delivered. A publish that fails
 * leaves the notice pending for the retry (or the next run's sweep) instead of losing it, and a
 * retry finds the stored notice instead of composing a second one.
 *
 * Delivery is claimed before publishing (a conditional write), so two runs sweeping at once do not
 * both publish. Exactly once holds for every failure SNS reports; the residual is a publish SNS
 * accepted whose acknowledgement was lost together with our mark (the notice is then published again
 * after the claim goes stale, with the same `noticeId` attribute so a consumer can drop it).
 */
export type OutboxStream = 'controls' | 'risks';

export interface OutboxNotice {
  readonly stream: OutboxStream;
  /** Deterministic and time-sortable (it starts with the run id), so a retry names the same notice. */
  readonly noticeId: string;
  readonly createdAt: string;
  readonly notification: Notification;
  /** What the stream needs after delivery (e.g. the digest history record), JSON. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface StoredNotice extends OutboxNotice {
  readonly deliveredAt?: string;
  readonly messageId?: string;
  readonly claimedAt?: string;
}

export interface NoticeOutbox {
  /** Stores the notice unless one with this id exists (then it is left untouched). */
  add(notice: OutboxNotice): Promise<void>;
  get(stream: OutboxStream, noticeId: string): Promise<StoredNotice | undefined>;
  /** Undelivered notices whose id sorts at or after `sinceId`, oldest first, at most `limit`. */
  pending(stream: OutboxStream, options: { sinceId: string; limit: number }): Promise<StoredNotice[]>;
  /** True when this caller may publish now: undelivered and not claimed since `staleBefore`. */
  claim(
    stream: OutboxStream,
    noticeId: string,
    claim: { claimId: string; now: string; staleBefore: string },
  ): Promise<boolean>;
  /** Publishing failed: drop our claim so the next attempt publishes at once. */
  release(stream: OutboxStream, noticeId: string, claimId: string): Promise<void>;
  /** SNS acknowledged: record the message id; false when our claim was taken over meanwhile. */
  markDelivered(
    stream: OutboxStream,
    noticeId: string,
    delivery: { claimId: string; messageId: string; deliveredAt: string },
  ): Promise<boolean>;
}

export interface DeliveryDeps {
  readonly outbox: NoticeOutbox;
  readonly notifier: Notifier;
  readonly clock?: () => Date;
  /** A claim older than this belongs to a dead run and may be taken over. @default 15 minutes */
  readonly claimTimeoutMs?: number;
  readonly newClaimId?: () => string;
}

export type DeliveryResult =
  | { readonly status: 'delivered'; readonly messageId: string; readonly deliveredAt: string }
  | { readonly status: 'already-delivered'; readonly messageId: string }
  | { readonly status: 'claimed-elsewhere' };

/** 15 minutes, the longest a Lambda can run: a claim this old cannot belong to a live invocation. */
export const DEFAULT_NOTICE_CLAIM_TIMEOUT_MS = 15 * 60_000;

export class NoticeDeliveryError extends Error {
  override name = 'NoticeDeliveryError';
}

const randomClaimId = () => Math.random().toString(36).slice(2, 12);

/**
 * Publishes one stored notice unless it was delivered or another run is delivering it. A publish
 * failure releases the claim and throws {@link NoticeDeliveryError}: the notice stays pending.
 */
export async function deliverNotice(notice: StoredNotice, deps: DeliveryDeps): Promise<DeliveryResult> {
  if (notice.deliveredAt !== undefined && notice.messageId !== undefined)
    return { status: 'already-delivered', messageId: notice.messageId };
  const now = (deps.clock ?? (() => new Date()))();
  const claimId = (deps.newClaimId ?? randomClaimId)();
  const staleBefore = new Date(
    now.getTime() - (deps.claimTimeoutMs ?? DEFAULT_NOTICE_CLAIM_TIMEOUT_MS),
  ).toISOString();
  const won = await deps.outbox.claim(notice.stream, notice.noticeId, {
    claimId,
    now: now.toISOString(),
    staleBefore,
  });
  if (!won) {
    const stored = await deps.outbox.get(notice.stream, notice.noticeId);
    return stored?.messageId !== undefined && stored.deliveredAt !== undefined
      ? { status: 'already-delivered', messageId: stored.messageId }
      : { status: 'claimed-elsewhere' };
  }
  let messageId: string;
  try {
    messageId = await deps.notifier.publish({
      ...notice.notification,
      payload: { ...notice.notification.payload, noticeId: notice.noticeId },
    });
  } catch (error) {
    await deps.outbox.release(notice.stream, notice.noticeId, claimId).catch(() => {});
    throw new NoticeDeliveryError(
      `could not publish notice ${notice.noticeId}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const deliveredAt = now.toISOString();
  await deps.outbox.markDelivered(notice.stream, notice.noticeId, { claimId, messageId, deliveredAt });
  return { status: 'delivered', messageId, deliveredAt };
}

/** The compact UTC timestamp run ids start with (`20261201T001500Z`), for `pending`'s lower bound. */
export function noticeIdSince(instant: Date): string {
  return instant
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * Delivers the stream's pending notices of the last `lookbackMs` (oldest first, at most `limit`):
 * what a failed publish or a crash left behind. Returns what was delivered and what failed; never
 * throws for one notice, so one bad notice does not block the others.
 */
export async function deliverPendingNotices(
  stream: OutboxStream,
  deps: DeliveryDeps & { readonly lookbackMs?: number; readonly limit?: number },
): Promise<{ delivered: StoredNotice[]; failed: { notice: StoredNotice; error: string }[] }> {
  const now = (deps.clock ?? (() => new Date()))();
  const sinceId = noticeIdSince(new Date(now.getTime() - (deps.lookbackMs ?? 35 * 24 * 3_600_000)));
  const pending = await deps.outbox.pending(stream, { sinceId, limit: deps.limit ?? 25 });
  const delivered: StoredNotice[] = [];
  const failed: { notice: StoredNotice; error: string }[] = [];
  for (const notice of pending) {
    try {
      const result = await deliverNotice(notice, deps);
      if (result.status === 'delivered')
        delivered.push({ ...notice, messageId: result.messageId, deliveredAt: result.deliveredAt });
    } catch (error) {
      failed.push({ notice, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { delivered, failed };
}
