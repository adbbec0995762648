import type { AuditVerdict } from '../audit/audit-verdicts.ts';
import { computeReadiness, type Readiness } from '../audit/readiness.ts';
import type { Config } from '../config/schema.ts';
import type { Notification, Notifier } from '../notify/notification.ts';
import {
  deliverNotice,
  deliverPendingNotices,
  type NoticeOutbox,
  type OutboxNotice,
  type StoredNotice,
} from '../runs/notice-outbox.ts';
import { newRunId } from '../runs/run-record.ts';
import type { Logger } from '../shared/logger.ts';
import { digestNotification } from './digest-message.ts';
import { evaluateRegister, type LatestVerdict, type RegisterEvaluation } from './evaluate-register.ts';
import type { EvaluationSummary, ReminderLedger, RiskStore, SentDigestRecord } from './ports.ts';
import { readinessFindings, readinessWindow } from './readiness-findings.ts';
import {
  claimWindow,
  type DigestItem,
  type DigestKind,
  type PlannedDigest,
  planReminders,
  recipientsOf,
  reminderTiming,
} from './reminders.ts';
import { type ReviewVerdictRecord, reviewFindings, reviewVerdictIds } from './review-findings.ts';

export interface RiskEvaluationDeps {
  readonly config: Config;
  readonly store: RiskStore;
  readonly ledger: ReminderLedger;
  readonly notifier: Notifier;
  /** Latest verdict of each given control; omit to evaluate without control evidence. */
  readonly latestVerdicts?: (controlIds: readonly string[]) => Promise<LatestVerdict[]>;
  /**
   * The verdicts of the last year for the given controls: the pre-audit checklist (`readiness`) is
   * then computed too, and owners of items that are not ready get them in their digest, reminded
   * and escalated like the register's findings. Omit to remind of the register alone.
   */
  readonly readinessVerdicts?: (
    controls: readonly { readonly id: string; readonly cadence: Config['controls'][number]['cadence'] }[],
  ) => Promise<AuditVerdict[]>;
  /**
   * Stored verdicts of the given ids (review-required controls, their review chains, documents'
   * chains): owed reviews then become findings for their owners. Omit to leave reviews out.
   */
  readonly reviewVerdicts?: (ids: readonly string[]) => Promise<ReviewVerdictRecord[]>;
  readonly log: Logger;
  /** @default 15 minutes (see DEFAULT_CLAIM_TIMEOUT_MS) */
  readonly claimTimeoutMs?: number;
  readonly newRunId?: (asOf: Date) => string;
  /**
   * Digests are stored here once their items are claimed, and the items marked sent at that moment;
   * then published and marked delivered. A failed publish leaves the digest pending, and the retry
   * (or the next day's run) delivers it first: no digest is lost (the escalation digest included)
   * and none is sent twice. Without it, a failed publish releases the claims (the older behaviour).
   */
  readonly outbox?: NoticeOutbox;
}

export interface DeliveredDigest {
  readonly recipient: string;
  readonly kind: DigestKind;
  readonly digestId: string;
  readonly messageId: string;
  readonly subject: string;
  readonly itemKeys: readonly string[];
  /** Owner digests: the items that were also escalated. */
  readonly escalatedKeys: readonly string[];
}

export interface DigestFailure {
  readonly recipient: string;
  readonly kind: DigestKind;
  readonly error: string;
}

export interface RiskEvaluationReport {
  readonly runId: string;
  /** The register's evaluation, with the not-ready readiness items among its findings. */
  readonly evaluation: RegisterEvaluation;
  /** The pre-audit checklist as of the run, when `readinessVerdicts` was given. */
  readonly readiness?: Readiness;
  readonly summary: EvaluationSummary;
  readonly digests: readonly DeliveredDigest[];
  /** Items another run had already sent within the interval or was sending (lost claims). */
  readonly skippedItems: number;
  readonly failures: readonly DigestFailure[];
  /** Digests an earlier run stored but could not publish, delivered by this run before planning. */
  readonly redelivered: readonly DeliveredDigest[];
}

export class NoRiskRegisterError extends Error {
  override name = 'NoRiskRegisterError';
}

/** Some digests could not be published; they stay pending (outbox) or released, so the retry sends them. */
export class DigestDeliveryError extends Error {
  override name = 'DigestDeliveryError';
  constructor(
    readonly failures: readonly DigestFailure[],
    options?: ErrorOptions,
  ) {
    super(
      `could not publish ${failures.length} digest(s): ${failures.map((f) => `${f.kind} to ${f.recipient}: ${f.error}`).join('; ')}`,
      options,
    );
  }
}

/** Distinct controls linked from the register (what `latestVerdicts` is asked for). */
export function linkedControlIds(config: Config): string[] {
  return [...new Set((config.riskRegister?.risks ?? []).flatMap((risk) => risk.linkedControls))].sort();
}

/**
 * The scheduled evaluation: evaluate the register as of `asOf`, store its state and findings, then
 * send each recipient at most one digest per kind. `asOf` is also the ledger's clock, so a retried
 * invocation of the same scheduled event (same `time`) finds its reminders already sent or claimed.
 *
 * Every due item is claimed in the ledger before anything is published; a digest is published with
 * only the items this run won; each item is marked sent once SNS acknowledges. A publish failure
 * releases that digest's claims and is reported in `failures` (the caller throws, so the run retries).
 */
export async function runRiskEvaluation(asOf: Date, deps: RiskEvaluationDeps): Promise<RiskEvaluationReport> {
  const { config, store, ledger, log } = deps;
  const register = config.riskRegister;
  if (!register) throw new NoRiskRegisterError('the configuration has no riskRegister to evaluate');
  const runId = (deps.newRunId ?? newRunId)(asOf);
  const redelivered = deps.outbox ? await redeliverPending(asOf, deps, deps.outbox) : [];

  const controlIds = linkedControlIds(config);
  const latestVerdicts =
    deps.latestVerdicts && controlIds.length > 0 ? await deps.latestVerdicts(controlIds) : [];
  const registerEvaluation = evaluateRegister(register, { asOf, timeZone: config.timeZone, latestVerdicts });
  const readiness = deps.readinessVerdicts
    ? computeReadiness({
        config,
        window: readinessWindow(asOf, config.timeZone),
        verdicts: await deps.readinessVerdicts(config.controls),
      })
    : undefined;
  const withReadiness: RegisterEvaluation = readiness
    ? { ...registerEvaluation, findings: [...registerEvaluation.findings, ...readinessFindings(readiness)] }
    : registerEvaluation;
  const summary = await store.saveEvaluation(withReadiness, runId);
  // Owed reviews are reminded with the register's findings (same ledger, digest and escalation);
  // the register's stored state stays the register's.
  const reviewIds = reviewVerdictIds(config);
  const owedReviews =
    deps.reviewVerdicts && reviewIds.length > 0
      ? reviewFindings(config, await deps.reviewVerdicts(reviewIds), asOf)
      : [];
  const evaluation: RegisterEvaluation = {
    ...withReadiness,
    findings: [...withReadiness.findings, ...owedReviews],
  };

  const timing = reminderTiming(register.settings, deps.claimTimeoutMs);
  const entries = (
    await Promise.all(recipientsOf(evaluation).map((recipient) => ledger.entriesFor(recipient)))
  ).flat();
  const planned = planReminders({ evaluation, ledger: entries, now: asOf, timing, runId });
  const now = asOf.toISOString();
  const window = claimWindow(asOf, timing);

  // Claim everything first: a crash after the first publish leaves the rest claimed, and stale
  // claims are retried by a later run rather than lost.
  let skippedItems = 0;
  const claimed: PlannedDigest[] = [];
  for (const digest of planned) {
    const won: DigestItem[] = [];
    for (const item of digest.due) {
      const ok = await ledger.claim({
        recipient: digest.recipient,
        itemKey: item.itemKey,
        digestId: digest.digestId,
        now,
        ...window,
        describe: { subjectId: item.finding.subjectId, rule: item.finding.rule, owner: item.finding.owner },
      });
      if (ok) won.push(item);
      else skippedItems += 1;
    }
    if (won.length > 0) claimed.push({ ...digest, due: won });
  }

  const names = new Map(config.owners.map((owner) => [owner.id, owner.name]));
  const digests: DeliveredDigest[] = [];
  const failures: DigestFailure[] = [];
  for (const digest of claimed) {
    const notification = digestNotification(digest, {
      names,
      settings: register.settings,
      timeZone: config.timeZone,
    });
    const itemKeys = digest.due.map((item) => item.itemKey);
    const delivered = deps.outbox
      ? await deliverThroughOutbox(digest, notification, { asOf, now, evaluation, deps, outbox: deps.outbox })
      : await deliverDirectly(digest, notification, { now, deps });
    if ('error' in delivered) {
      failures.push({ recipient: digest.recipient, kind: digest.kind, error: delivered.error });
      continue;
    }
    const { messageId } = delivered;
    if (!deps.outbox) {
      for (const item of digest.due) {
        const ours = await ledger.markSent(digest.recipient, item.itemKey, digest.digestId, now, messageId);
        if (!ours)
          log.warn('reminder claim was taken over before it was marked sent', {
            itemKey: item.itemKey,
            digestId: digest.digestId,
          });
      }
    }
    await ledger.recordDigest({
      recipient: digest.recipient,
      kind: digest.kind,
      digestId: digest.digestId,
      date: evaluation.date,
      sentAt: now,
      messageId,
      subject: notification.subject,
      itemKeys,
    });
    digests.push({
      recipient: digest.recipient,
      kind: digest.kind,
      digestId: digest.digestId,
      messageId,
      subject: notification.subject,
      itemKeys,
      escalatedKeys: digest.due.filter((item) => item.escalated).map((item) => item.itemKey),
    });
  }
  log.info('risk register evaluated', {
    runId,
    date: evaluation.date,
    findings: evaluation.findings.length,
    ...(readiness ? { readiness: readiness.summary } : {}),
    digests: digests.map((d) => `${d.kind}:${d.recipient}:${d.itemKeys.length}`),
    skippedItems,
    failures: failures.length,
    redelivered: redelivered.length,
  });
  return {
    runId,
    evaluation,
    ...(readiness ? { readiness } : {}),
    summary,
    digests,
    skippedItems,
    failures,
    redelivered,
  };
}

type Delivery = { readonly messageId: string } | { readonly error: string };

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Without an outbox: publish, and on failure release the claims so the retry claims them again. */
async function deliverDirectly(
  digest: PlannedDigest,
  notification: Notification,
  context: { now: string; deps: RiskEvaluationDeps },
): Promise<Delivery> {
  const { deps } = context;
  try {
    return { messageId: await deps.notifier.publish(notification) };
  } catch (error) {
    deps.log.error('digest publish failed; releasing its claims', {
      recipient: digest.recipient,
      kind: digest.kind,
      error: errorText(error),
    });
    for (const item of digest.due) await deps.ledger.release(digest.recipient, item.itemKey, digest.digestId);
    return { error: errorText(error) };
  }
}

/**
 * Stores the digest, marks its items sent (the digest now exists and will be delivered), then
 * publishes it. A failed publish leaves it pending in the outbox for the retry's redelivery.
 */
async function deliverThroughOutbox(
  digest: PlannedDigest,
  notification: Notification,
  context: {
    asOf: Date;
    now: string;
    evaluation: RegisterEvaluation;
    deps: RiskEvaluationDeps;
    outbox: NoticeOutbox;
  },
): Promise<Delivery> {
  const { deps, outbox, now } = context;
  const notice: OutboxNotice = {
    stream: 'risks',
    noticeId: digest.digestId,
    createdAt: now,
    notification,
    meta: {
      recipient: digest.recipient,
      kind: digest.kind,
      digestId: digest.digestId,
      date: context.evaluation.date,
      subject: notification.subject,
      itemKeys: digest.due.map((item) => item.itemKey),
    },
  };
  await outbox.add(notice);
  for (const item of digest.due) {
    const ours = await deps.ledger.markSent(
      digest.recipient,
      item.itemKey,
      digest.digestId,
      now,
      `outbox:${digest.digestId}`,
    );
    if (!ours)
      deps.log.warn('reminder claim was taken over before it was marked sent', {
        itemKey: item.itemKey,
        digestId: digest.digestId,
      });
  }
  try {
    const result = await deliverNotice(notice, {
      outbox,
      notifier: deps.notifier,
      clock: () => context.asOf,
    });
    if (result.status === 'claimed-elsewhere') return { error: 'another run is delivering this digest' };
    return { messageId: result.messageId };
  } catch (error) {
    deps.log.error('digest publish failed; it stays in the outbox for the retry', {
      recipient: digest.recipient,
      kind: digest.kind,
      error: errorText(error),
    });
    return { error: errorText(error) };
  }
}

/** Digests earlier runs stored but could not publish: delivered first, and their history recorded. */
async function redeliverPending(
  asOf: Date,
  deps: RiskEvaluationDeps,
  outbox: NoticeOutbox,
): Promise<DeliveredDigest[]> {
  const { delivered, failed } = await deliverPendingNotices('risks', {
    outbox,
    notifier: deps.notifier,
    clock: () => asOf,
  });
  for (const failure of failed)
    deps.log.error('pending digest could not be delivered; it stays in the outbox', {
      noticeId: failure.notice.noticeId,
      error: failure.error,
    });
  const digests: DeliveredDigest[] = [];
  for (const notice of delivered) {
    const record = digestRecordOf(notice);
    if (!record) continue;
    await deps.ledger.recordDigest(record);
    digests.push({
      recipient: record.recipient,
      kind: record.kind,
      digestId: record.digestId,
      messageId: record.messageId,
      subject: record.subject,
      itemKeys: record.itemKeys,
      escalatedKeys: [],
    });
  }
  return digests;
}

function digestRecordOf(notice: StoredNotice): SentDigestRecord | undefined {
  const meta = notice.meta ?? {};
  if (notice.messageId === undefined || notice.deliveredAt === undefined) return undefined;
  if (meta.kind !== 'risk-digest' && meta.kind !== 'escalation-digest') return undefined;
  return {
    recipient: String(meta.recipient),
    kind: meta.kind,
    digestId: String(meta.digestId),
    date: String(meta.date),
    sentAt: notice.deliveredAt,
    messageId: notice.messageId,
    subject: String(meta.subject),
    itemKeys: Array.isArray(meta.itemKeys) ? meta.itemKeys.map(String) : [],
  };
}
