import { describe, expect, it } from 'vitest';
import { jobDeduplicationId } from '../../lib/runs/control-job.ts';

const job = {
  controlId: 'audit-log',
  cadence: 'monthly' as const,
  periodKey: '2026-11',
  asOf: '2026-12-01T00:15:00Z',
};

describe('job deduplication id', () => {
  it('is the same for the same control, period and scheduled time, however the instant is written', () => {
    expect(jobDeduplicationId({ ...job, asOf: '2026-12-01T00:15:00.000Z' })).toBe(jobDeduplicationId(job));
    expect(jobDeduplicationId({ ...job, asOf: '2026-12-01T01:15:00+01:00' })).toBe(jobDeduplicationId(job));
  });

  it('differs when the control, the period or the scheduled time differs', () => {
    const ids = new Set([
      jobDeduplicationId(job),
      jobDeduplicationId({ ...job, controlId: 'audit-log-2' }),
      jobDeduplicationId({ ...job, periodKey: '2026-10' }),
      jobDeduplicationId({ ...job, asOf: '2026-12-01T00:15:01Z' }),
    ]);
    expect(ids.size).toBe(4);
  });

  it('fits SQS (at most 128 characters of [A-Za-z0-9]) even for a long control id', () => {
    const id = jobDeduplicationId({ ...job, controlId: 'a'.repeat(120) });
    expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not mistake a control id containing the separator for another control and period', () => {
    expect(jobDeduplicationId({ ...job, controlId: 'a', periodKey: 'b:c' })).not.toBe(
      jobDeduplicationId({ ...job, controlId: 'a:b', periodKey: 'c' }),
    );
  });
});
