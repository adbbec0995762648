import { z } from 'zod';

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

export const envVarNameSchema = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name');

/** SOC 2 Trust Services Criteria ids such as CC7.2, A1.2, C1.1, PI1.3, P4.1. */
export const criterionSchema = z
  .string()
  .regex(/^(CC[1-9]|A1|C1|PI1|P[1-8])\.\d{1,2}$/, 'expected a SOC 2 criterion such as CC7.2 or A1.2');

/** ISO-8601 duration limited to what control parameters need: PT15M, PT1H, P7D, P90D. */
export const durationSchema = z
  .string()
  .regex(/^P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$/, 'expected an ISO-8601 duration such as PT1H or P90D')
  .refine((value) => value !== 'P' && value !== 'PT' && !value.endsWith('T'), 'expected a non-empty duration');

export const isoDateSchema = z.iso.date({ message: 'expected a date as YYYY-MM-DD' });

export function quoteIdentifier(identifier: string): string {
  return `"${sqlIdentifierSchema.parse(identifier)}"`;
}

/** Converts a validated ISO-8601 duration to milliseconds. */
export function durationToMs(duration: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!match) throw new RangeError(`not a supported ISO-8601 duration: ${duration}`);
  const [, days, hours, minutes, seconds] = match.map((part) => Number(part ?? 0));
  return ((((days ?? 0) * 24 + (hours ?? 0)) * 60 + (minutes ?? 0)) * 60 + (seconds ?? 0)) * 1000;
}
