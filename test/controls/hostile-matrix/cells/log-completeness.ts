import { defineMatrix } from '../matrix.ts';

export const logCompletenessMatrix = defineMatrix({
  source:
    'real PostgreSQL (an audit log with an event every 10 minutes around the day); more cells in test/controls/log-completeness.test.ts and the differential suite',
  cells: {
    'control-untouched-log': {
      case: 'control',
      plants: 'nothing: the log is complete',
      verdict: 'pass',
    },
    'empty-table': {
      case: 'empty',
      plants: 'an audit log with no rows',
      verdict: 'fail',
      reason: /the audit log holds no events at all/,
    },
    'null-timestamps': {
      case: 'nulls',
      plants: 'three hours of rows with a NULL timestamp',
      verdict: 'fail',
      reason: /^audit log silent 2026-11-01T09:55:00.000Z to 2026-11-01T13:05:00.000Z/,
    },
    'null-actions-and-users': {
      case: 'nulls',
      plants: "the day's rows with NULL action and user (events, but no login and no users)",
      verdict: 'fail',
      reason: /^no login events in 2026-11-01$/,
    },
    'timestamp-column-text': {
      case: 'types',
      plants: 'the timestamp column is text',
      verdict: 'error',
      reason: /is text, expected/,
    },
    'event-on-period-end': {
      case: 'boundary',
      plants: 'the last hour emptied but for events at 23:59:59.999 and at 00:00 the next day',
      verdict: 'fail',
      reason: /^audit log silent 2026-11-01T22:55:00.000Z to 2026-11-01T23:59:59.999Z/,
    },
    'future-events': {
      case: 'future',
      plants: 'one event dated a day after the check',
      verdict: 'fail',
      reason: /^1 events are dated after 2026-11-02T06:00:00.000Z, the time of the check/,
    },
    'outlier-one-old-row-retention': {
      case: 'outlier',
      plants:
        'one event from 2025-10-01 and the period, nothing else in the P365D retention window (the oldest event alone is old enough)',
      verdict: 'fail',
      reason:
        /^the P365D retention is not intact: 363 of its 364 days hold no event \(from 2025-11-02T06:00:00\.000Z, .*\): events in that window may have been deleted$/,
      before: 'pass',
      fix: 'retention needs an event on every day of the window, not just one old enough',
    },
    'outlier-one-event': {
      case: 'outlier',
      plants: 'one event in an otherwise silent day',
      verdict: 'fail',
      reason: /^audit log silent 2026-10-31T23:55:00.000Z to 2026-11-01T12:00:00.000Z/,
    },
    'duplicates-fill-nothing': {
      case: 'duplicates',
      plants: 'a 12-hour silence with 10,000 copies of one event in its middle',
      verdict: 'fail',
      reason: /^audit log silent 2026-11-01T07:55:00.000Z to 2026-11-01T14:00:00.000Z/,
    },
    'control-characters-huge-users': {
      case: 'strings',
      plants: "every action 'login\\n\\e[0m' and every user id 100 kB long",
      verdict: 'fail',
      reason: /^no login events in 2026-11-01$/,
    },
    'no-select': {
      case: 'privileges',
      plants: 'the checking role cannot read the table',
      verdict: 'error',
      reason: /^table no_select\.audit_log is not readable \(no SELECT privilege\)$/,
    },
    'row-level-security': {
      case: 'privileges',
      plants: 'a row-level security policy hides a future-dated event from the checking role',
      verdict: 'error',
      reason: /row-level security/,
      before: 'pass',
      fix: 'sessions run with row_security = off, so a policy that would hide rows is an error (postgres adapter)',
    },
    'stale-log-stopped': {
      case: 'stale',
      plants: 'the log stopped at 18:00 (nothing after it, up to the check)',
      verdict: 'fail',
      reason: /^audit log silent 2026-11-01T17:55:00.000Z to 2026-11-02T06:00:00.000Z/,
    },
  },
});
