import { durationToMs } from '../shared/identifiers.ts';
import type { RegisterEvaluation, RiskFinding } from './evaluate-register.ts';
import type { RegisterSettings } from './register-schema.ts';

/**
 * What the ledger remembers about one item for one recipient. An owner's entry is keyed by the
 * finding key; the escalation owner's entry by `escalation/<owner>/<finding key>`.
 */
export interface LedgerEntry {
  readonly recipient: string;
  readonly itemKey: string;
  /** Reminders completed (published and acknowledged). */
  readonly remindersSent: number;
  readonly lastSentAt?: string;
  /** Set by a claim before publishing, cleared once SNS acknowledged the digest. */
  readonly pendingSince?: string;
  readonly pendingDigestId?: string;
}

export type DigestKind = 'risk-digest' | 'escalation-digest';

export interface DigestItem {
  readonly finding: RiskFinding;
  /** The recipient's ledger key for this item. */
  readonly itemKey: string;
  /** Which reminder this is for this recipient, 1-based. */
  readonly reminderNumber: number;
  /** Owner digest: this reminder also goes to the escalation owner. */
  readonly escalated: boolean;
  /** Escalation digest: how many reminders the owner has already had. */
  readonly ownerReminders?: number;
}

export interface PlannedDigest {
  /** Unique per run and recipient; claims carry it so only this run can mark them sent. */
  readonly digestId: string;
  readonly kind: DigestKind;
  readonly recipient: string;
  /** The evaluation's local date. */
  readonly date: string;
  /** Reminded now, counted in the ledger. Never empty. */
  readonly due: readonly DigestItem[];
  /** The recipient's other open findings, reminded within the interval: listed, not counted. */
  readonly stillOpen: readonly { readonly finding: RiskFinding; readonly lastSentAt?: string }[];
}

/** Ledger timing rules, shared by the planner and the conditional writes in the store. */
export interface ReminderTiming {
  readonly intervalMs: number;
  /** A claim older than this is presumed dead (its run crashed) and may be taken over. */
  readonly claimTimeoutMs: number;
  /**
   * Schedules drift: a daily run a few seconds earlier than last week's must still count as a full
   * interval later. min(1 hour, interval / 4).
   */
  readonly toleranceMs: number;
}

/** 15 minutes, the longest a Lambda can run: a claim this old cannot belong to a live invocation. */
export const DEFAULT_CLAIM_TIMEOUT_MS = 15 * 60_000;

export function reminderTiming(
  settings: RegisterSettings,
  claimTimeoutMs = DEFAULT_CLAIM_TIMEOUT_MS,
): ReminderTiming {
  const intervalMs = durationToMs(settings.reminderInterval);
  return { intervalMs, claimTimeoutMs, toleranceMs: Math.min(3_600_000, intervalMs / 4) };
}

/** The instants a claim's conditional write compares against (ISO strings sort as instants). */
export function claimWindow(now: Date, timing: ReminderTiming): { sentBefore: string; staleBefore: string } {
  return {
    sentBefore: new Date(now.getTime() - timing.intervalMs + timing.toleranceMs).toISOString(),
    staleBefore: new Date(now.getTime() - timing.claimTimeoutMs).toISOString(),
  };
}

function hasLiveClaim(entry: LedgerEntry, now: Date, timing: ReminderTiming): boolean {
  return entry.pendingSince !== undefined && entry.pendingSince > claimWindow(now, timing).staleBefore;
}

function hasStaleClaim(entry: LedgerEntry | undefined, now: Date, timing: ReminderTiming): boolean {
  return entry?.pendingSince !== undefined && !hasLiveClaim(entry, now, timing);
}

/** Due: never sent, or sent an interval ago, and no live claim by another run. */
export function isReminderDue(entry: LedgerEntry | undefined, now: Date, timing: ReminderTiming): boolean {
  if (!entry) return true;
  if (hasLiveClaim(entry, now, timing)) return false;
  return entry.lastSentAt === undefined || entry.lastSentAt <= claimWindow(now, timing).sentBefore;
}

export const escalationItemKey = (owner: string, findingKey: string) => `escalation/${owner}/${findingKey}`;

export interface PlanInput {
  readonly evaluation: RegisterEvaluation;
  /** Ledger entries of every recipient involved, any order. */
  readonly ledger: readonly LedgerEntry[];
  readonly now: Date;
  readonly timing: ReminderTiming;
  /** Makes digest ids unique per run, e.g. the run id. */
  readonly runId: string;
}

/**
 * Decides who gets which digest now. Pure. One digest per recipient and kind: an owner's due
 * findings, plus, for the escalation owner, every item whose owner has had `escalateAfter`
 * reminders and is due another. Items the escalation owner owns are not escalated to themselves.
 */
export function planReminders(input: PlanInput): PlannedDigest[] {
  const { evaluation, now, timing } = input;
  const { escalateAfter, escalationOwner } = evaluation.settings;
  const entries = new Map(input.ledger.map((entry) => [`${entry.recipient}|${entry.itemKey}`, entry]));
  const entry = (recipient: string, itemKey: string) => entries.get(`${recipient}|${itemKey}`);

  const ownerDue = new Map<string, DigestItem[]>();
  const ownerStill = new Map<string, { finding: RiskFinding; lastSentAt?: string }[]>();
  const escalations: DigestItem[] = [];
  const push = <T>(map: Map<string, T[]>, key: string, value: T) =>
    map.set(key, [...(map.get(key) ?? []), value]);

  for (const finding of evaluation.findings) {
    const own = entry(finding.owner, finding.key);
    const due = isReminderDue(own, now, timing);
    const sent = own?.remindersSent ?? 0;
    let escalated = false;
    if (escalationOwner !== undefined && escalationOwner !== finding.owner && sent >= escalateAfter) {
      const escalationKey = escalationItemKey(finding.owner, finding.key);
      const esc = entry(escalationOwner, escalationKey);
      // Escalate alongside the owner's next reminder; a stale escalation claim (crash after the
      // owner's digest went out) is retried on its own.
      if ((due || hasStaleClaim(esc, now, timing)) && isReminderDue(esc, now, timing)) {
        escalated = true;
        escalations.push({
          finding,
          itemKey: escalationKey,
          reminderNumber: (esc?.remindersSent ?? 0) + 1,
          escalated: false,
          ownerReminders: sent,
        });
      }
    }
    if (due)
      push(ownerDue, finding.owner, { finding, itemKey: finding.key, reminderNumber: sent + 1, escalated });
    else
      push(ownerStill, finding.owner, {
        finding,
        ...(own?.lastSentAt ? { lastSentAt: own.lastSentAt } : {}),
      });
  }

  const digests: PlannedDigest[] = [];
  for (const [recipient, due] of [...ownerDue].sort(([a], [b]) => a.localeCompare(b))) {
    digests.push({
      digestId: `${input.runId}/risk-digest/${recipient}`,
      kind: 'risk-digest',
      recipient,
      date: evaluation.date,
      due,
      stillOpen: ownerStill.get(recipient) ?? [],
    });
  }
  if (escalationOwner !== undefined && escalations.length > 0) {
    digests.push({
      digestId: `${input.runId}/escalation-digest/${escalationOwner}`,
      kind: 'escalation-digest',
      recipient: escalationOwner,
      date: evaluation.date,
      due: escalations,
      stillOpen: [],
    });
  }
  return digests;
}

/** Recipients whose ledger the planner needs: every finding owner plus the escalation owner. */
export function recipientsOf(evaluation: RegisterEvaluation): string[] {
  const recipients = new Set(evaluation.findings.map((f) => f.owner));
  if (evaluation.settings.escalationOwner) recipients.add(evaluation.settings.escalationOwner);
  return [...recipients].sort();
}
