import { describe, expect, it } from 'vitest';
import { digestNotification, humanDuration, wrap } from '../../lib/risks/digest-message.ts';
import { evaluateRegister } from '../../lib/risks/evaluate-register.ts';
import { evaluationInstant } from '../../lib/risks/evaluation-event.ts';
import {
  escalationItemKey,
  isReminderDue,
  type LedgerEntry,
  planReminders,
  reminderTiming,
} from '../../lib/risks/reminders.ts';
import { register, remediationInput, riskInput } from './fixtures.ts';

const NOW = new Date('2026-11-23T06:00:00Z');
const settings = register({}).settings;
const timing = reminderTiming(settings);
const entry = (over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  recipient: 'security',
  itemKey: 'G1/remediation-overdue/2025-11-01',
  remindersSent: 1,
  ...over,
});

describe('when a reminder is due', () => {
  it.each([
    { case: 'never reminded', entry: undefined, due: true },
    { case: 'reminded 7 days ago', entry: entry({ lastSentAt: '2026-11-16T06:00:00.000Z' }), due: true },
    {
      case: 'reminded 7 days ago less 59 minutes (schedule drift)',
      entry: entry({ lastSentAt: '2026-11-16T06:59:00.000Z' }),
      due: true,
    },
    { case: 'reminded 6 days ago', entry: entry({ lastSentAt: '2026-11-17T06:00:00.000Z' }), due: false },
    { case: 'reminded earlier today', entry: entry({ lastSentAt: '2026-11-23T05:00:00.000Z' }), due: false },
    {
      case: 'claimed 5 minutes ago by another run',
      entry: entry({ remindersSent: 0, pendingSince: '2026-11-23T05:55:00.000Z' }),
      due: false,
    },
    {
      case: 'claimed 16 minutes ago by a run that died',
      entry: entry({ remindersSent: 0, pendingSince: '2026-11-23T05:44:00.000Z' }),
      due: true,
    },
  ])('$case: $due', ({ entry: e, due }) => {
    expect(isReminderDue(e, NOW, timing)).toBe(due);
  });

  it('never lets schedule drift tolerance swallow a short interval', () => {
    expect(reminderTiming(register({ settings: { reminderInterval: 'PT1H' } }).settings).toleranceMs).toBe(
      15 * 60_000,
    );
    expect(timing.toleranceMs).toBe(3_600_000);
  });
});

describe('digest planning', () => {
  const input = register({
    settings: { escalationOwner: 'founder', escalateAfter: 3 },
    risks: [riskInput({ id: 'R2', owner: 'founder', lastReviewed: '2026-02-18' })],
    remediations: [
      remediationInput({ id: 'G1', owner: 'security', targetDate: '2025-11-01' }),
      remediationInput({ id: 'G4', owner: 'security', targetDate: '2026-10-01' }),
    ],
  });
  const evaluation = evaluateRegister(input, { asOf: NOW, timeZone: 'UTC' });

  it('gives each owner one digest with all their due items', () => {
    const plan = planReminders({ evaluation, ledger: [], now: NOW, timing, runId: 'run-1' });
    expect(plan.map((d) => [d.kind, d.recipient, d.due.map((i) => i.finding.subjectId)])).toEqual([
      ['risk-digest', 'founder', ['R2']],
      ['risk-digest', 'security', ['G1', 'G4']],
    ]);
    expect(plan[1]?.digestId).toBe('run-1/risk-digest/security');
  });

  it('lists recently reminded items as still open without counting them, and sends nothing if none is due', () => {
    const g1 = entry({ lastSentAt: '2026-11-20T06:00:00.000Z' });
    const plan = planReminders({ evaluation, ledger: [g1], now: NOW, timing, runId: 'r' });
    const security = plan.find((d) => d.recipient === 'security');
    expect(security?.due.map((i) => i.finding.subjectId)).toEqual(['G4']);
    expect(security?.stillOpen.map((o) => [o.finding.subjectId, o.lastSentAt])).toEqual([
      ['G1', '2026-11-20T06:00:00.000Z'],
    ]);
    const g4 = entry({
      itemKey: 'G4/remediation-overdue/2026-10-01',
      lastSentAt: '2026-11-20T06:00:00.000Z',
    });
    expect(
      planReminders({ evaluation, ledger: [g1, g4], now: NOW, timing, runId: 'r' }).map((d) => d.recipient),
    ).toEqual(['founder']);
  });

  it.each([
    { sent: 2, escalates: false },
    { sent: 3, escalates: true },
    { sent: 7, escalates: true },
  ])('escalates an item after $sent owner reminders: $escalates', ({ sent, escalates }) => {
    const g1 = entry({ remindersSent: sent, lastSentAt: '2026-11-16T06:00:00.000Z' });
    const plan = planReminders({ evaluation, ledger: [g1], now: NOW, timing, runId: 'r' });
    const escalation = plan.find((d) => d.kind === 'escalation-digest');
    expect(escalation !== undefined).toBe(escalates);
    if (escalation) {
      expect(escalation.recipient).toBe('founder');
      expect(escalation.due.map((i) => [i.itemKey, i.ownerReminders])).toEqual([
        [escalationItemKey('security', 'G1/remediation-overdue/2025-11-01'), sent],
      ]);
      expect(
        plan.find((d) => d.recipient === 'security')?.due.find((i) => i.finding.subjectId === 'G1')
          ?.escalated,
      ).toBe(true);
    }
  });

  it('retries a stale escalation claim even when the owner is not due (crash after the owner digest)', () => {
    const g1 = entry({ remindersSent: 4, lastSentAt: '2026-11-22T06:00:00.000Z' });
    const stale: LedgerEntry = {
      recipient: 'founder',
      itemKey: escalationItemKey('security', g1.itemKey),
      remindersSent: 0,
      pendingSince: '2026-11-22T06:00:00.000Z',
    };
    const plan = planReminders({ evaluation, ledger: [g1, stale], now: NOW, timing, runId: 'r' });
    expect(plan.find((d) => d.kind === 'escalation-digest')?.due).toHaveLength(1);
  });

  it('never escalates the escalation owner to themselves', () => {
    const r2: LedgerEntry = {
      recipient: 'founder',
      itemKey: 'R2/review-overdue/2026-05-18',
      remindersSent: 9,
      lastSentAt: '2026-11-01T00:00:00.000Z',
    };
    const plan = planReminders({ evaluation, ledger: [r2], now: NOW, timing, runId: 'r' });
    expect(plan.some((d) => d.kind === 'escalation-digest')).toBe(false);
  });

  it('builds a mail-friendly notification routed to the recipient', () => {
    const [founder] = planReminders({ evaluation, ledger: [], now: NOW, timing, runId: 'r' });
    if (!founder) throw new Error('no digest');
    const notification = digestNotification(founder, {
      names: new Map([['founder', 'Founder']]),
      settings: input.settings,
      timeZone: 'UTC',
    });
    expect(notification).toMatchObject({
      kind: 'risk-digest',
      owner: 'founder',
      control: '-',
      severity: 'medium',
    });
    expect(notification.subject).toBe('[SOC 2] Risk register: 1 item needs your attention (2026-11-23)');
    expect(notification.subject.length).toBeLessThanOrEqual(100);
    expect(notification.text).toContain('1. R2 Tenant data leakage: review overdue (189 days)');
    expect(notification.text).toContain('You are reminded of each item at most once every 7 days.');
  });
});

describe('text helpers', () => {
  it('wraps with a hanging indent', () => {
    expect(wrap('one two three four five six', '   ', 14, '1. ')).toEqual([
      '1. one two',
      '   three four',
      '   five six',
    ]);
  });

  it.each([
    ['P7D', '7 days'],
    ['PT12H', '12 hours'],
    ['P1DT6H', '1 day 6 hours'],
  ])('says %s as "%s"', (iso, text) => {
    expect(humanDuration(iso)).toBe(text);
  });
});

describe('evaluation event', () => {
  it.each([
    { event: { asOf: '2026-11-23T06:00:00Z' }, expected: '2026-11-23T06:00:00.000Z' },
    {
      event: { 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-11-23T06:00:00Z' },
      expected: '2026-11-23T06:00:00.000Z',
    },
    { event: {}, expected: '2030-01-01T00:00:00.000Z' },
    { event: undefined, expected: '2030-01-01T00:00:00.000Z' },
  ])('reads the instant from $event', ({ event, expected }) => {
    expect(evaluationInstant(event, () => new Date('2030-01-01T00:00:00Z')).toISOString()).toBe(expected);
  });

  it('rejects a malformed event, naming the field', () => {
    expect(() => evaluationInstant({ asOf: 'yesterday' })).toThrow(/malformed evaluation event/);
  });
});
