export const NOTIFICATION_KINDS = [
  'control-failed',
  'control-error',
  'risk-digest',
  'escalation-digest',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What owners receive. `text` is the whole human message (what an email shows); `payload` is the
 * same content for machines (the Slack forwarder builds Block Kit from it). The routing attributes
 * become SNS message attributes, so each owner's subscription filters to their own messages.
 */
export interface Notification {
  readonly kind: NotificationKind;
  readonly owner: string;
  readonly severity: Severity;
  /** The control this is about; `-` for digests that span several. */
  readonly control: string;
  /** At most 100 characters (SNS email subject limit). */
  readonly subject: string;
  readonly text: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface Notifier {
  /** Resolves with the SNS message id once SNS has accepted the message. */
  publish(notification: Notification): Promise<string>;
}
