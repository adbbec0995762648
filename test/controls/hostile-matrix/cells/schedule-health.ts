import { defineMatrix } from '../matrix.ts';

export const scheduleHealthMatrix = defineMatrix({
  source: 'DynamoDB emulator (dynalite) through the real results store',
  cells: {
    'control-every-period-checked': {
      case: 'control',
      plants: 'a monthly control with a pass or fail verdict for every period since it was added',
      verdict: 'pass',
    },
    'empty-history': {
      case: 'empty',
      plants: 'a control added in August with no verdict at all',
      verdict: 'fail',
      reason: /^m-empty: no verdict for 2026-08, 2026-09, 2026-10$/,
    },
    'no-controls-listed': {
      case: 'nothing',
      plants: 'the verdict history lists no controls (nothing to check)',
      verdict: 'fail',
      reason: /no controls to check/,
      before: 'pass',
      fix: 'a schedule check of zero controls proves nothing: fail',
    },
    'verdict-attribute-missing': {
      case: 'nulls',
      plants: 'a stored verdict item without its verdict attribute',
      verdict: 'fail',
      reason: /^m-null: 2026-10 has no real verdict \(stored verdict: none\)$/,
      before: 'pass',
      fix: 'only pass and fail are real verdicts; anything else stored is no verdict',
    },
    'verdict-wrong-value': {
      case: 'types',
      plants: "a stored verdict 'PASS' (not one of pass, fail, error)",
      verdict: 'fail',
      reason: /^m-type: 2026-10 has no real verdict \(stored verdict: PASS\)$/,
      before: 'pass',
      fix: 'only pass and fail are real verdicts; anything else stored is no verdict',
    },
    'period-end-exactly-grace-ago': {
      case: 'boundary',
      plants: 'the period ended exactly the 6 h grace before the check, with no verdict',
      verdict: 'fail',
      reason: /^d-grace: no verdict for 2026-11-23$/,
    },
    'period-end-just-inside-grace': {
      case: 'boundary',
      plants: 'the period ended 1 ms less than the grace before the check (not yet owed)',
      verdict: 'pass',
    },
    'verdict-for-a-future-period': {
      case: 'future',
      plants: 'a verdict for next month, none for the owed ones',
      verdict: 'fail',
      reason: /^m-future: no verdict for 2026-09, 2026-10$/,
    },
    'verdict-recorded-after-the-check': {
      case: 'future',
      plants: "the owed month's only verdict is recorded a minute after the check ran",
      verdict: 'fail',
      reason:
        /^m-late: 2026-10 has no verdict recorded by 2026-11-24T06:00:00\.000Z, when this check ran \(its verdict is recorded at 2026-11-24T06:01:00\.000Z\)$/,
      before: 'pass',
      fix: 'a verdict counts only when recorded by the check instant (its clock)',
    },
    'added-on-timestamp-without-zone': {
      case: 'types',
      plants: "addedOn '2026-08-01T00:00:00' (a timestamp without a zone, not a calendar date)",
      verdict: 'error',
      reason: /^m-zoneless: addedOn "2026-08-01T00:00:00" is not a calendar date \(YYYY-MM-DD\)/,
      before: 'pass',
      fix: 'addedOn must be a calendar date, read in the configured time zone',
    },
    'outlier-one-old-verdict': {
      case: 'outlier',
      plants: 'one verdict for the first owed month, none after it',
      verdict: 'fail',
      reason: /^m-outlier: no verdict for 2026-09, 2026-10$/,
    },
    'duplicate-attempts-latest-errored': {
      case: 'duplicates',
      plants: 'two attempts for one period: a pass, then an error',
      verdict: 'fail',
      reason: /^m-dup: 2026-10 is stuck: the latest of 2 attempts errored$/,
    },
    'look-alike-control-id': {
      case: 'strings',
      plants: "the owed verdicts are stored under 'm-look' + a trailing space",
      verdict: 'fail',
      reason: /^m-look: no verdict for 2026-09, 2026-10$/,
    },
    'results-table-missing': {
      case: 'privileges',
      plants: 'the results table cannot be read',
      verdict: 'error',
      reason: /non-existent table|not found|ResourceNotFound/i,
    },
    'no-verdict-history': {
      case: 'privileges',
      plants: 'the deployment provides no verdict history',
      verdict: 'error',
      reason: /no verdict history/,
    },
    'stale-only-errors': {
      case: 'stale',
      plants: 'every attempt of the owed period errored',
      verdict: 'fail',
      reason: /^m-stuck: 2026-10 is stuck: all 2 attempts errored$/,
    },
    'unknown-control-id': {
      case: 'stale',
      plants: 'the check is told to watch a control that is no longer configured',
      verdict: 'fail',
      reason: /^m-gone: not a configured control/,
    },
  },
});
