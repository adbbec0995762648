import { describe, expect, it } from 'vitest';
import {
  criterionSchema,
  durationSchema,
  durationToMs,
  envVarNameSchema,
  positiveDurationSchema,
  quoteIdentifier,
  slugSchema,
  sqlIdentifierSchema,
} from '../../lib/shared/identifiers.ts';

describe('quoteIdentifier', () => {
  it('double-quotes a valid identifier, so reserved words work as names', () => {
    expect(quoteIdentifier('audit_log')).toBe('"audit_log"');
    expect(quoteIdentifier('timestamp')).toBe('"timestamp"');
    expect(quoteIdentifier('user')).toBe('"user"');
  });

  it('refuses anything that could break out of the quotes', () => {
    for (const attempt of ['audit_log"; drop table users; --', 'a"b', 'audit_log; drop table', 'Audit', '']) {
      expect(() => quoteIdentifier(attempt)).toThrow(RangeError);
    }
  });
});

describe('sqlIdentifierSchema', () => {
  it('accepts the longest identifier PostgreSQL keeps (63 bytes) and nothing longer', () => {
    expect(sqlIdentifierSchema.safeParse('a'.repeat(63)).success).toBe(true);
    expect(sqlIdentifierSchema.safeParse('a'.repeat(64)).success).toBe(false);
  });

  it('accepts a leading underscore and digits after the first character', () => {
    expect(sqlIdentifierSchema.safeParse('_audit_2026').success).toBe(true);
    expect(sqlIdentifierSchema.safeParse('2026_audit').success).toBe(false);
  });
});

describe('durations', () => {
  it('converts days, hours, minutes and seconds to milliseconds', () => {
    expect(durationToMs('PT1H')).toBe(3_600_000);
    expect(durationToMs('PT15M')).toBe(900_000);
    expect(durationToMs('P365D')).toBe(365 * 86_400_000);
    expect(durationToMs('P1DT2H3M4S')).toBe(((26 * 60 + 3) * 60 + 4) * 1000);
    expect(durationToMs('PT90S')).toBe(90_000);
  });

  it('rejects forms whose length varies or that say nothing', () => {
    for (const bad of ['P1Y', 'P1M', 'P2W', 'P', 'PT', 'P1DT', '1h', 'PT1.5H', '-PT1H', 'pt1h', '']) {
      expect(durationSchema.safeParse(bad).success, bad).toBe(false);
    }
    expect(() => durationToMs('P1Y')).toThrow(RangeError);
    expect(() => durationToMs('P')).toThrow(RangeError);
  });

  it('names the accepted units in its error', () => {
    expect(durationSchema.safeParse('P1Y').error?.issues[0]?.message).toBe(
      'expected an ISO-8601 duration in days, hours, minutes or seconds such as PT1H or P90D',
    );
  });

  it('allows zero where a zero duration means something, but not for a positive limit', () => {
    expect(durationSchema.safeParse('PT0S').success).toBe(true);
    expect(positiveDurationSchema.safeParse('PT0S').error?.issues[0]?.message).toBe(
      'expected a duration longer than zero',
    );
    expect(positiveDurationSchema.safeParse('PT1S').success).toBe(true);
  });
});

describe('other identifiers', () => {
  it('restricts ids to slugs usable in S3 keys, DynamoDB keys and SNS filter policies', () => {
    expect(slugSchema.safeParse('audit-log-completeness').success).toBe(true);
    for (const bad of ['Audit', '-audit', 'audit_log', 'audit/log', 'a'.repeat(64), '']) {
      expect(slugSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('accepts SOC 2 criteria ids from each category', () => {
    for (const good of ['CC7.2', 'CC1.1', 'A1.2', 'C1.1', 'PI1.3', 'P4.1']) {
      expect(criterionSchema.safeParse(good).success, good).toBe(true);
    }
    for (const bad of ['CC0.1', 'CC7', 'A2.1', 'P9.1', 'cc7.2', 'CC7.2 ']) {
      expect(criterionSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('accepts environment variable names only', () => {
    expect(envVarNameSchema.safeParse('DATABASE_URL').success).toBe(true);
    expect(envVarNameSchema.safeParse('database_url').success).toBe(false);
    expect(envVarNameSchema.safeParse('DATABASE-URL').success).toBe(false);
  });
});
