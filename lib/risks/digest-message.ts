import type { Notification, Severity } from '../notify/notification.ts';
import { SEVERITIES } from '../notify/notification.ts';
import type { RiskFinding } from './evaluate-register.ts';
import type { RegisterSettings } from './register-schema.ts';
import type { DigestItem, PlannedDigest } from './reminders.ts';

/** Names for the people in a digest; ids stand in for unknown owners. */
export type OwnerNames = ReadonlyMap<string, string>;

/** Payload items kept in the SNS `payload` attribute (the text always lists everything). */
export const MAX_PAYLOAD_ITEMS = 50;

const RULE_LABEL: Record<RiskFinding['rule'], string> = {
  'missing-mitigation': 'no written mitigation',
  'review-overdue': 'review overdue',
  'mitigation-overdue': 'mitigation overdue',
  'remediation-overdue': 'remediation overdue',
  'control-failing': 'linked control failing',
  'stride-gap': 'STRIDE walk-through incomplete',
  'unencrypted-at-rest': 'sensitive data not encrypted at rest',
  'acceptance-above-threshold': 'accepted above the threshold',
  'review-not-evidenced': 'review claimed, not evidenced',
  'incident-rescore': 're-score after an incident',
  'readiness-not-ready': 'pre-audit checklist item not ready',
  'review-missing': 'review sign-off owed',
  'document-review-overdue': 'document review overdue',
};

export function ruleLabel(finding: RiskFinding): string {
  return RULE_LABEL[finding.rule];
}

/** `R9 · mitigation overdue (176 days)`. */
export function findingHeadline(finding: RiskFinding): string {
  const late = finding.daysOverdue !== undefined ? ` (${finding.daysOverdue} days)` : '';
  const control = finding.controlId ? ` (${finding.controlId}, ${finding.periodKey})` : '';
  return `${finding.subjectId} ${finding.subjectTitle}: ${ruleLabel(finding)}${late}${control}`;
}

/**
 * Word-wraps for plain-text mail clients, which show long lines unwrapped or badly broken. The
 * first line starts with `first` (e.g. "3. "), the others with `indent`.
 */
export function wrap(text: string, indent: string, width = 76, first = indent): string[] {
  const lines: string[] = [];
  let line = '';
  let prefix = first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && prefix.length + line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      prefix = indent;
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(prefix + line);
  return lines;
}

/** `P7D` -> "7 days", `PT12H` -> "12 hours", `P1DT6H` -> "1 day 6 hours". */
export function humanDuration(duration: string): string {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!match) return duration;
  const units = ['day', 'hour', 'minute', 'second'];
  const parts = match
    .slice(1)
    .map((value, index) =>
      value && Number(value) > 0 ? plural(Number(value), units[index] ?? '') : undefined,
    )
    .filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join(' ') : duration;
}

function highest(severities: readonly Severity[]): Severity {
  return severities.reduce<Severity>(
    (top, s) => (SEVERITIES.indexOf(s) > SEVERITIES.indexOf(top) ? s : top),
    'info',
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function payloadItem(item: DigestItem, names: OwnerNames) {
  const f = item.finding;
  return {
    key: f.key,
    subjectKind: f.subjectKind,
    subjectId: f.subjectId,
    subjectTitle: f.subjectTitle,
    rule: f.rule,
    category: f.category,
    severity: f.severity,
    owner: f.owner,
    ownerName: names.get(f.owner) ?? f.owner,
    message: f.message,
    reminderNumber: item.reminderNumber,
    escalated: item.escalated,
    ...(f.dueDate ? { dueDate: f.dueDate } : {}),
    ...(f.daysOverdue !== undefined ? { daysOverdue: f.daysOverdue } : {}),
    ...(f.controlId ? { controlId: f.controlId, periodKey: f.periodKey, verdict: f.verdict } : {}),
    ...(item.ownerReminders !== undefined ? { ownerReminders: item.ownerReminders } : {}),
  };
}

export type DigestPayloadItem = ReturnType<typeof payloadItem>;

/** The `payload` message attribute of a digest: what the Slack forwarder renders. */
export interface DigestPayload {
  readonly version: 1;
  readonly kind: PlannedDigest['kind'];
  readonly recipient: string;
  readonly recipientName: string;
  readonly date: string;
  readonly timeZone: string;
  readonly items: readonly DigestPayloadItem[];
  readonly stillOpen: readonly {
    key: string;
    subjectId: string;
    rule: string;
    headline: string;
    lastSentAt?: string;
  }[];
  /** Items left out of the payload (never out of the text) to stay within SNS limits. */
  readonly truncated: number;
  readonly reminderInterval: string;
  readonly escalateAfter: number;
  readonly escalationOwner?: string;
}

/**
 * The email (SNS `Message`) and the structured payload of one digest. Plain text, wrapped at 76
 * columns, numbered, each item with its sentence and what reminder it is.
 */
export function digestNotification(
  digest: PlannedDigest,
  context: { readonly names: OwnerNames; readonly settings: RegisterSettings; readonly timeZone: string },
): Notification {
  const { names, settings } = context;
  const recipientName = names.get(digest.recipient) ?? digest.recipient;
  const escalation = digest.kind === 'escalation-digest';
  const count = digest.due.length;
  const escalationName = settings.escalationOwner
    ? (names.get(settings.escalationOwner) ?? settings.escalationOwner)
    : undefined;

  const lines: string[] = [`Hello ${recipientName},`, ''];
  if (escalation) {
    lines.push(
      ...wrap(
        `The risk register evaluation of ${digest.date} (${context.timeZone}) escalates ${plural(count, 'item')} to you: ` +
          `each has been reminded to its owner ${settings.escalateAfter} or more times and is still open.`,
        '',
      ),
    );
  } else {
    lines.push(
      ...wrap(
        `The risk register evaluation of ${digest.date} (${context.timeZone}) found ${plural(count, 'item')} ` +
          `that need${count === 1 ? 's' : ''} your attention.`,
        '',
      ),
    );
  }
  lines.push('');
  if (escalation) {
    const byOwner = new Map<string, DigestItem[]>();
    for (const item of digest.due)
      byOwner.set(item.finding.owner, [...(byOwner.get(item.finding.owner) ?? []), item]);
    let n = 0;
    for (const [owner, items] of byOwner) {
      lines.push(`OWNED BY ${(names.get(owner) ?? owner).toUpperCase()} (${owner})`, '');
      for (const item of items) {
        n += 1;
        lines.push(...wrap(findingHeadline(item.finding), '   ', 76, `${n}. `));
        lines.push(...wrap(item.finding.message, '   '));
        lines.push(
          `   Owner reminded ${plural(item.ownerReminders ?? 0, 'time')}; escalation ${item.reminderNumber}.`,
          '',
        );
      }
    }
  } else {
    lines.push('NEEDS ACTION', '');
    digest.due.forEach((item, index) => {
      lines.push(...wrap(findingHeadline(item.finding), '   ', 76, `${index + 1}. `));
      lines.push(...wrap(item.finding.message, '   '));
      const note = item.escalated && escalationName ? ` Also escalated to ${escalationName}.` : '';
      lines.push(`   Reminder ${item.reminderNumber}.${note}`, '');
    });
    if (digest.stillOpen.length > 0) {
      lines.push('STILL OPEN (reminded recently, listed for completeness)', '');
      for (const open of digest.stillOpen) {
        const when = open.lastSentAt ? ` (last reminded ${open.lastSentAt.slice(0, 10)})` : '';
        lines.push(...wrap(`${findingHeadline(open.finding)}${when}`, '  ', 76, '- '));
      }
      lines.push('');
    }
  }
  lines.push(
    ...wrap(
      escalation
        ? 'What to do: make sure the owners above update the risk register, or reassign the items. ' +
            'You will hear about an item again while it stays open.'
        : 'What to do: update the risk register in a pull request (re-score and set lastReviewed, record ' +
            'the mitigation, or mark the remediation done). Items stay in this digest until the register says so.' +
            (digest.due.some((item) => item.finding.subjectKind === 'readiness')
              ? ' For pre-audit checklist items: provide the evidence named (upload the document, or get the ' +
                'control passing); an item leaves the digest once `soc2-evidence readiness` shows it ready.'
              : ''),
      '',
    ),
    '',
  );
  const escalationNote =
    !escalation && escalationName
      ? ` After ${settings.escalateAfter} reminders an item is also sent to ${escalationName}.`
      : '';
  lines.push(
    ...wrap(
      `You are reminded of each item at most once every ${humanDuration(settings.reminderInterval)}.${escalationNote}`,
      '',
    ),
    '',
    '-- soc2-evidence risk register',
  );

  const items = digest.due.map((item) => payloadItem(item, names));
  const payload: DigestPayload = {
    version: 1,
    kind: digest.kind,
    recipient: digest.recipient,
    recipientName,
    date: digest.date,
    timeZone: context.timeZone,
    items: items.slice(0, MAX_PAYLOAD_ITEMS),
    stillOpen: digest.stillOpen.slice(0, MAX_PAYLOAD_ITEMS).map((open) => ({
      key: open.finding.key,
      subjectId: open.finding.subjectId,
      rule: open.finding.rule,
      headline: findingHeadline(open.finding),
      ...(open.lastSentAt ? { lastSentAt: open.lastSentAt } : {}),
    })),
    truncated:
      Math.max(0, items.length - MAX_PAYLOAD_ITEMS) +
      Math.max(0, digest.stillOpen.length - MAX_PAYLOAD_ITEMS),
    reminderInterval: settings.reminderInterval,
    escalateAfter: settings.escalateAfter,
    ...(settings.escalationOwner ? { escalationOwner: settings.escalationOwner } : {}),
  };
  return {
    kind: digest.kind,
    owner: digest.recipient,
    control: '-',
    severity: highest(digest.due.map((item) => item.finding.severity)),
    subject: escalation
      ? `[SOC 2] Escalation: ${plural(count, 'risk register item')} still open (${digest.date})`
      : `[SOC 2] Risk register: ${plural(count, 'item')} need${count === 1 ? 's' : ''} your attention (${digest.date})`,
    text: lines.join('\n'),
    payload: payload as unknown as Readonly<Record<string, unknown>>,
  };
}
