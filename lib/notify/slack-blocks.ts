import type { NotificationKind } from './notification.ts';

/** The Block Kit subset we send (https://api.slack.com/reference/block-kit/blocks). */
export type SlackText =
  | { type: 'plain_text'; text: string; emoji?: boolean }
  | { type: 'mrkdwn'; text: string };
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji?: boolean } }
  | { type: 'section'; text: SlackText }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'divider' };

export interface SlackPayload {
  /** Fallback for notifications and clients that cannot show blocks. */
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/** What the forwarder got from SNS: the routing attributes, subject, email text and payload. */
export interface IncomingNotification {
  readonly kind: NotificationKind | string;
  readonly owner: string;
  readonly subject: string;
  readonly text: string;
  readonly payload: unknown;
}

/** Slack limits: 50 blocks per message, 3000 characters per section, 150 per header. */
export const SLACK_LIMITS = { blocks: 50, section: 3000, header: 150, items: 20 } as const;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const header = (text: string): SlackBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: cut(text, SLACK_LIMITS.header), emoji: true },
});
const section = (mrkdwn: string): SlackBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: cut(mrkdwn, SLACK_LIMITS.section) },
});
const context = (mrkdwn: string): SlackBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: cut(mrkdwn, SLACK_LIMITS.section) }],
});

interface DigestItemView {
  subjectId: string;
  subjectTitle: string;
  rule: string;
  message: string;
  owner?: string;
  ownerName?: string;
  reminderNumber?: number;
  escalated?: boolean;
  ownerReminders?: number;
  daysOverdue?: number;
  severity?: string;
}

interface DigestView {
  kind: string;
  recipientName?: string;
  date?: string;
  timeZone?: string;
  items: DigestItemView[];
  stillOpen: { subjectId: string; headline?: string }[];
  truncated: number;
  escalationOwner?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** Reads a digest payload defensively: the forwarder must render whatever arrives, never crash. */
function digestView(payload: unknown): DigestView | undefined {
  if (!isRecord(payload) || !Array.isArray(payload.items)) return undefined;
  const items = payload.items.filter(isRecord).map((item) => ({
    subjectId: str(item.subjectId) ?? '?',
    subjectTitle: str(item.subjectTitle) ?? '',
    rule: str(item.rule) ?? '',
    message: str(item.message) ?? '',
    owner: str(item.owner),
    ownerName: str(item.ownerName),
    reminderNumber: num(item.reminderNumber),
    escalated: item.escalated === true,
    ownerReminders: num(item.ownerReminders),
    daysOverdue: num(item.daysOverdue),
    severity: str(item.severity),
  }));
  const stillOpen = (Array.isArray(payload.stillOpen) ? payload.stillOpen : [])
    .filter(isRecord)
    .map((open) => ({ subjectId: str(open.subjectId) ?? '?', headline: str(open.headline) }));
  return {
    kind: str(payload.kind) ?? '',
    recipientName: str(payload.recipientName),
    date: str(payload.date),
    timeZone: str(payload.timeZone),
    items,
    stillOpen,
    truncated: num(payload.truncated) ?? 0,
    escalationOwner: str(payload.escalationOwner),
  };
}

const RULE_LABEL: Record<string, string> = {
  'missing-mitigation': 'no written mitigation',
  'review-overdue': 'review overdue',
  'mitigation-overdue': 'mitigation overdue',
  'remediation-overdue': 'remediation overdue',
  'control-failing': 'linked control failing',
};

const SEVERITY_MARK: Record<string, string> = {
  critical: ':red_circle:',
  high: ':red_circle:',
  medium: ':large_orange_circle:',
};

function digestBlocks(note: IncomingNotification, view: DigestView): SlackPayload {
  const escalation = note.kind === 'escalation-digest';
  const count = view.items.length + Math.max(0, view.truncated);
  const title = escalation
    ? `Escalation: ${view.items.length} risk register item${view.items.length === 1 ? '' : 's'} still open`
    : `Risk register: ${view.items.length} item${view.items.length === 1 ? '' : 's'} need${view.items.length === 1 ? 's' : ''} attention`;
  const blocks: SlackBlock[] = [header(title)];
  const when = [
    view.date && `Evaluation of ${view.date}${view.timeZone ? ` (${view.timeZone})` : ''}`,
    view.recipientName && `for ${view.recipientName}`,
  ]
    .filter(Boolean)
    .join(' · ');
  if (when) blocks.push(context(escapeMrkdwn(when)));

  const shown = view.items.slice(0, SLACK_LIMITS.items);
  for (const item of shown) {
    const late = item.daysOverdue !== undefined ? ` (${item.daysOverdue} days)` : '';
    const mark = SEVERITY_MARK[item.severity ?? ''] ?? ':white_circle:';
    const footer = escalation
      ? `_Owner: ${escapeMrkdwn(item.ownerName ?? item.owner ?? '?')} · reminded ${item.ownerReminders ?? 0} times_`
      : `_Reminder ${item.reminderNumber ?? 1}${item.escalated ? ' · escalated' : ''}_`;
    blocks.push(
      section(
        `${mark} *${escapeMrkdwn(`${item.subjectId} ${item.subjectTitle}`)}*: ${escapeMrkdwn(RULE_LABEL[item.rule] ?? item.rule)}${late}\n` +
          `${escapeMrkdwn(item.message)}\n${footer}`,
      ),
    );
  }
  const hidden = count - shown.length;
  if (hidden > 0) blocks.push(context(`…and ${hidden} more: the email digest lists every item.`));
  if (view.stillOpen.length > 0) {
    blocks.push(
      context(
        `Still open, reminded recently: ${escapeMrkdwn(view.stillOpen.map((open) => open.subjectId).join(', '))}`,
      ),
    );
  }
  blocks.push({ type: 'divider' });
  blocks.push(
    context(
      escalation
        ? 'Each item was reminded to its owner several times without a change in the risk register.'
        : 'Update the risk register in a pull request: re-score and set `lastReviewed`, record the mitigation, or mark the remediation done.',
    ),
  );
  return {
    text: cut(note.subject || title, SLACK_LIMITS.section),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
  };
}

/**
 * Block Kit for one notification: digests as one section per item (severity, what, why, which
 * reminder), anything else (control alerts) as its subject and email text. Pure.
 */
export function slackPayloadFor(note: IncomingNotification): SlackPayload {
  if (note.kind === 'risk-digest' || note.kind === 'escalation-digest') {
    const view = digestView(note.payload);
    if (view) return digestBlocks(note, view);
  }
  const title = note.subject || note.kind;
  return {
    text: cut(title, SLACK_LIMITS.section),
    blocks: [
      header(title),
      section(escapeMrkdwn(note.text || title)),
      context(`\`${escapeMrkdwn(note.kind)}\` for ${escapeMrkdwn(note.owner)}`),
    ],
  };
}
