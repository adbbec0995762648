import type { Config } from '../config/schema.ts';
import type { Notifier } from '../notify/notification.ts';
import { newRunId } from '../runs/run-record.ts';
import type { Logger } from '../shared/logger.ts';
import { digestNotification } from './digest-message.ts';
import { evaluateRegister, type LatestVerdict, type RegisterEvaluation } from './evaluate-register.ts';
import type { EvaluationSummary, ReminderLedger, RiskStore } from './ports.ts';
import {
  claimWindow,
  type DigestItem,
  type DigestKind,
  type PlannedDigest,
  planReminders,
  recipientsOf,
  reminderTiming,
} from './reminders.ts';

export interface RiskEvaluationDeps {
  readonly config: Config;
  readonly store: RiskStore;
  readonly ledger: ReminderLedger;
  readonly notifier: Notifier;
  /** Latest verdict of each given control; omit to evaluate without control evidence. */
  readonly latestVerdicts?: (controlIds: readonly string[]) => Promise<LatestVerdict[]>;
  readonly log: Logger;
  /** @default 15 minutes (see DEFAULT_CLAIM_TIMEOUT_MS) */
  readonly claimTimeoutMs?: number;
  readonly newRunId?: (asOf: Date) => string;
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
  readonly evaluation: RegisterEvaluation;
  readonly summary: EvaluationSummary;
  readonly digests: readonly DeliveredDigest[];
  /** Items another run had already sent within the interval or was sending (lost claims). */
  readonly skippedItems: number;
  readonly failures: readonly DigestFailure[];
}

export class NoRiskRegisterError extends Error {
  override name = 'NoRiskRegisterError';
}

/** Some digests could not be published; their claims were released so the retry sends them. */
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
  const { config, store, ledger, notifier, log } = deps;
  const register = config.riskRegister;
  if (!register) throw new NoRiskRegisterError('the configuration has no riskRegister to evaluate');
  const runId = (deps.newRunId ?? newRunId)(asOf);

  const controlIds = linkedControlIds(config);
  const latestVerdicts =
    deps.latestVerdicts && controlIds.length > 0 ? await deps.latestVerdicts(controlIds) : [];
  const evaluation = evaluateRegister(register, { asOf, timeZone: config.timeZone, latestVerdicts });
  const summary = await store.saveEvaluation(evaluation, runId);

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
    let messageId: string;
    try {
      messageId = await notifier.publish(notification);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.error('digest publish failed; releasing its claims', {
        recipient: digest.recipient,
        kind: digest.kind,
        error: message,
      });
      for (const item of digest.due) await ledger.release(digest.recipient, item.itemKey, digest.digestId);
      failures.push({ recipient: digest.recipient, kind: digest.kind, error: message });
      continue;
    }
    for (const item of digest.due) {
      const ours = await ledger.markSent(digest.recipient, item.itemKey, digest.digestId, now, messageId);
      if (!ours)
        log.warn('reminder claim was taken over before it was marked sent', {
          itemKey: item.itemKey,
          digestId: digest.digestId,
        });
    }
    const itemKeys = digest.due.map((item) => item.itemKey);
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
    digests: digests.map((d) => `${d.kind}:${d.recipient}:${d.itemKeys.length}`),
    skippedItems,
    failures: failures.length,
  });
  return { runId, evaluation, summary, digests, skippedItems, failures };
}
