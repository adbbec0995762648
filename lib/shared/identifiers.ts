import * as z from 'zod';

/** Ids of owners, targets and controls: used in S3 keys, DynamoDB keys and SNS filter policies. */
export const slugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lowercase letters, digits and hyphens (e.g. "audit-log")');

/**
 * A PostgreSQL identifier from the config (schema, table, column). Identifiers cannot be bound as
 * parameters, so they are restricted to a safe unquoted form and quoted again when used.
 */
export const sqlIdentifierSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase SQL identifier: letters, digits, underscores');

export const envVarNameSchema = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name');

/** SOC 2 Trust Services Criteria ids such as CC7.2, A1.2, C1.1, PI1.3, P4.1. */
export const criterionSchema = z
  .string()
  .regex(/^(CC[1-9]|A1|C1|PI1|P[1-8])\.\d{1,2}$/, 'expected a SOC 2 criterion such as CC7.2 or A1.2');

const DURATION_PATTERN = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/**
 * ISO-8601 duration limited to what control parameters need: PT15M, PT1H, P7D, P90D. Days are
 * 24 hours; years, months and weeks are left out because their length varies or reads ambiguously.
 */
export const durationSchema = z
  .string()
  .regex(
    DURATION_PATTERN,
    'expected an ISO-8601 duration in days, hours, minutes or seconds such as PT1H or P90D',
  )
  .refine(
    (value) => value !== 'P' && value !== 'PT' && !value.endsWith('T'),
    'expected a non-empty duration',
  );

/** A duration that must be longer than zero (a limit of zero would flag every event). */
export const positiveDurationSchema = durationSchema.refine(
  (value) => !DURATION_PATTERN.test(value) || durationToMs(value) > 0,
  'expected a duration longer than zero',
);

export const isoDateSchema = z.iso.date({ message: 'expected a date as YYYY-MM-DD' });

/**
 * Double-quotes an identifier for SQL text. It is validated again here, so an identifier that did
 * not come through the config schema still cannot break out of its quotes.
 */
export function quoteIdentifier(identifier: string): string {
  if (!sqlIdentifierSchema.safeParse(identifier).success) {
    throw new RangeError(`not a safe SQL identifier: ${JSON.stringify(identifier)}`);
  }
  return `"${identifier}"`;
}

/** Converts a validated ISO-8601 duration to milliseconds. */
export function durationToMs(duration: string): number {
  const match = DURATION_PATTERN.exec(duration);
  if (!match || duration === 'P' || duration.endsWith('T')) {
    throw new RangeError(`not a supported ISO-8601 duration: ${duration}`);
  }
  const [, days, hours, minutes, seconds] = match.map((part) => Number(part ?? 0));
  return ((((days ?? 0) * 24 + (hours ?? 0)) * 60 + (minutes ?? 0)) * 60 + (seconds ?? 0)) * 1000;
}

/**
 * A Secrets Manager secret name or ARN, without wildcards: IAM treats `*` and `?` in a resource as
 * patterns, so a grant derived from `prod/*` would cover every secret under it.
 */
export const secretIdSchema = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[A-Za-z0-9/_+=.@:-]+$/, 'expected a secret name or ARN without wildcards (* or ?)');
