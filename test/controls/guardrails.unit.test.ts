import { describe, expect, it } from 'vitest';
import { targetSchema } from '../../lib/config/schema.ts';
import { controlTestParamsSchema } from '../../lib/controls/registry.ts';
import { notificationsSchema } from '../../lib/notify/notifications-schema.ts';

const messages = (result: { error?: { issues: { message: string }[] } | undefined }) =>
  (result.error?.issues ?? []).map((issue) => issue.message).join('; ');

describe('input guardrails: nothing that IAM would read as a wildcard', () => {
  const rotation = (secret: Record<string, unknown>) =>
    controlTestParamsSchema.safeParse({ type: 'secret-rotation', secrets: [{ name: 'S', ...secret }] });

  it.each(['prod/*', 'prod/db?', '*', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:*'])(
    'rejects the secretId %s',
    (secretId) => {
      expect(messages(rotation({ secretId }))).toContain('without wildcards');
    },
  );

  it('accepts secret names and ARNs', () => {
    expect(rotation({ secretId: 'prod/db-password_1+=.@' }).success).toBe(true);
    expect(
      rotation({ secretId: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf' }).success,
    ).toBe(true);
  });

  it.each(['*', 'ci-*', 'ci?'])('rejects the IAM user name %s', (iamUser) => {
    expect(messages(rotation({ iamUser }))).toContain('expected an IAM user name');
  });

  it.each(['scans/*/', '*/', 'scans/tri?y/'])('rejects the S3 prefix %s', (prefix) => {
    const parsed = controlTestParamsSchema.safeParse({ type: 'vulnerability-scan', prefix });
    expect(messages(parsed)).toContain('without wildcards');
    const attestation = controlTestParamsSchema.safeParse({
      type: 'manual-attestation',
      prefix,
      expects: 'x',
    });
    expect(attestation.success).toBe(false);
  });

  it('rejects a wildcard secretId on a database target and on the Slack webhook secret', () => {
    const target = targetSchema.safeParse({
      name: 'app',
      connection: { secretId: 'prod/*' },
    });
    expect(messages(target)).toContain('without wildcards');
    expect(messages(notificationsSchema.safeParse({ slack: { webhookSecretId: '*' } }))).toContain(
      'without wildcards',
    );
  });

  it('defaults the Slack webhook allow-list to hooks.slack.com', () => {
    expect(notificationsSchema.parse({ slack: { webhookSecretId: 'slack/webhook' } })).toEqual({
      slack: { webhookSecretId: 'slack/webhook', allowedHosts: ['hooks.slack.com'] },
    });
  });
});
