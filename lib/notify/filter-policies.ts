/**
 * SNS subscription filter policies (MessageAttributes scope), shared by the CDK stack and the tests
 * so what is tested is what is deployed. Every notification carries an `owner` attribute
 * (see notification.ts); these policies route on it.
 */
export type FilterPolicy = Readonly<Record<string, readonly string[]>>;

/** An owner's email subscription: their own messages only (digests, escalations, control alerts). */
export function ownerFilterPolicy(ownerId: string): FilterPolicy {
  return { owner: [ownerId] };
}

/** SNS allows at most 150 values across a filter policy. */
export const MAX_FILTER_POLICY_VALUES = 150;

/**
 * The Slack forwarder's subscription: messages for owners who have a Slack channel, so the
 * forwarder is not invoked for email-only owners. `undefined` when nobody has a channel (then no
 * subscription is needed).
 */
export function slackForwarderFilterPolicy(
  owners: readonly { readonly id: string; readonly slackChannel?: string | undefined }[],
): FilterPolicy | undefined {
  const ids = owners.filter((owner) => owner.slackChannel !== undefined).map((owner) => owner.id);
  if (ids.length === 0) return undefined;
  if (ids.length > MAX_FILTER_POLICY_VALUES) {
    throw new RangeError(
      `${ids.length} owners have Slack channels; an SNS filter policy allows ${MAX_FILTER_POLICY_VALUES}`,
    );
  }
  return { owner: [...ids].sort() };
}
