import { defineMatrix } from '../matrix.ts';

export const secretRotationMatrix = defineMatrix({
  source:
    'real PostgreSQL (audit log); Secrets Manager and IAM through their SDK clients and aws-sdk-client-mock',
  cells: {
    'control-every-source-fresh': {
      case: 'control',
      plants: 'audit-log rotation 10 days ago, LastRotatedDate 30 days ago, active IAM key 20 days old',
      verdict: 'pass',
    },
    'empty-audit-log': {
      case: 'empty',
      plants: 'an audit log with no rows',
      verdict: 'fail',
      reason: /^DB password: no rotation on record$/,
    },
    'iam-user-without-keys': {
      case: 'nothing',
      plants: 'the IAM user exists and has no access keys',
      verdict: 'fail',
      reason: /^CI key: no rotation on record$/,
    },
    'secret-without-dates': {
      case: 'nothing',
      plants: 'DescribeSecret answers with neither LastRotatedDate nor CreatedDate',
      verdict: 'fail',
      reason: /^Token: no rotation on record$/,
    },
    'null-timestamp': {
      case: 'nulls',
      plants: 'the only successful rotation row has a NULL timestamp',
      verdict: 'fail',
      reason: /^DB password: no rotation on record$/,
    },
    'null-success': {
      case: 'nulls',
      plants: 'the only fresh rotation row has success NULL (an older one is 200 days old)',
      verdict: 'fail',
      reason: /^DB password was last rotated 200 days ago/,
    },
    'null-resource-id': {
      case: 'nulls',
      plants: 'a fresh rotation row whose resource_id is NULL',
      verdict: 'fail',
      reason: /^DB password: no rotation on record$/,
    },
    'type-timestamp-text': {
      case: 'types',
      plants: 'the timestamp column is text',
      verdict: 'error',
      reason: /"timestamp" is text, expected a timestamp|timestamp is text, expected a timestamp/,
    },
    'type-success-text': {
      case: 'types',
      plants: "the success column is text holding 'true'",
      verdict: 'error',
      reason: /success is text, expected boolean/,
    },
    'on-max-age': {
      case: 'boundary',
      plants: 'rotated exactly 90 days before the check (the limit is inclusive; a warning)',
      verdict: 'pass',
    },
    'just-over-max-age': {
      case: 'boundary',
      plants: 'rotated 90 days and 1 ms before the check',
      verdict: 'fail',
      reason: /^DB password was last rotated 90 days ago .*over the P90D maximum/,
    },
    'future-rotation-row': {
      case: 'future',
      plants: 'the only rotation row is dated a day after the check',
      verdict: 'fail',
      reason: /^DB password: no rotation on record$/,
    },
    'future-last-rotated-date': {
      case: 'future',
      plants: 'LastRotatedDate is after the check (its state at the check is unknown)',
      verdict: 'fail',
      reason: /^Token: no rotation on record$/,
    },
    'future-access-key': {
      case: 'future',
      plants: 'the only active IAM key was created after the check',
      verdict: 'fail',
      reason: /^CI key: no rotation on record$/,
    },
    'outlier-fresh-row-hides-old-key': {
      case: 'outlier',
      plants: 'a rotation row from yesterday beside a 400-day-old active IAM key of the same secret',
      verdict: 'fail',
      reason: /^DB password was last rotated 400 days ago .*iam-access-keys/,
    },
    'duplicate-active-keys': {
      case: 'duplicates',
      plants: 'two active keys on the user: one 5 days old, one 400 days old',
      verdict: 'fail',
      reason: /^CI key was last rotated 400 days ago/,
    },
    'control-character-resource-id': {
      case: 'strings',
      plants: "the fresh rotation is recorded for resource 'db_password\\n'",
      verdict: 'fail',
      reason: /^DB password: no rotation on record$/,
    },
    'huge-resource-id': {
      case: 'strings',
      plants: 'a 100 kB resource_id on a fresh rotation row, beside a 200-day-old real one',
      verdict: 'fail',
      reason: /^DB password was last rotated 200 days ago/,
    },
    'no-select-on-audit-log': {
      case: 'privileges',
      plants: 'the checking role has no SELECT on the audit log',
      verdict: 'error',
      reason: /audit_log does not exist or is not readable/,
    },
    'row-level-security': {
      case: 'privileges',
      plants: 'a row-level security policy hides the old rotation rows from the checking role',
      verdict: 'error',
      reason: /row-level security/,
      before: 'pass',
      fix: 'sessions run with row_security = off, so a policy that would hide rows is an error (postgres adapter)',
    },
    'secrets-manager-denied': {
      case: 'privileges',
      plants: 'DescribeSecret is denied',
      verdict: 'error',
      reason: /access denied \(secretsmanager:DescribeSecret\)/,
    },
    'stale-only-old-rotations': {
      case: 'stale',
      plants: 'rotation rows, all of them 200 days old',
      verdict: 'fail',
      reason: /^DB password was last rotated 200 days ago/,
    },
    'stale-secret-scheduled-for-deletion': {
      case: 'stale',
      plants: 'the secret is scheduled for deletion',
      verdict: 'error',
      reason: /^Token: Secrets Manager secret prod\/token is scheduled for deletion/,
    },
  },
});
