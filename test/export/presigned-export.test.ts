import { describe, expect, it } from 'vitest';
import { PresignValidityError, presignValidity } from '../../lib/export/presigned-export.ts';

const now = new Date('2026-12-01T10:00:00Z');
const hours = (n: number) => n * 3600;

describe('presigned link validity', () => {
  it('is the requested lifetime when the credentials outlive it (or never expire)', () => {
    expect(presignValidity({ now, requestedSeconds: hours(12) })).toEqual({
      validSeconds: hours(12),
      requestedSeconds: hours(12),
      limitedBy: 'expires-in',
      expiresAt: '2026-12-01T22:00:00.000Z',
    });
    expect(
      presignValidity({
        now,
        requestedSeconds: hours(1),
        credentialsExpireAt: new Date('2026-12-01T12:00:00Z'),
      }),
    ).toMatchObject({
      validSeconds: hours(1),
      limitedBy: 'expires-in',
      credentialsExpireAt: '2026-12-01T12:00:00.000Z',
    });
  });

  it('ends when the session credentials that sign it expire, and says so', () => {
    expect(
      presignValidity({
        now,
        requestedSeconds: hours(12),
        credentialsExpireAt: new Date('2026-12-01T11:00:00Z'),
      }),
    ).toEqual({
      validSeconds: hours(1),
      requestedSeconds: hours(12),
      limitedBy: 'credentials',
      expiresAt: '2026-12-01T11:00:00.000Z',
      credentialsExpireAt: '2026-12-01T11:00:00.000Z',
    });
  });

  it('never exceeds the 7 days SigV4 allows', () => {
    expect(presignValidity({ now, requestedSeconds: hours(24 * 30) }).validSeconds).toBe(hours(24 * 7));
  });

  it('refuses credentials that expire within a minute (or have expired)', () => {
    for (const at of ['2026-12-01T10:00:30Z', '2026-12-01T09:00:00Z']) {
      expect(() =>
        presignValidity({ now, requestedSeconds: hours(1), credentialsExpireAt: new Date(at) }),
      ).toThrow(PresignValidityError);
    }
  });
});
