import { describe, expect, it } from 'vitest';
import { type SlackBlock, slackPayloadFor } from '../../lib/notify/slack-blocks.ts';

const item = (n: number, extra: Record<string, unknown> = {}) => ({
  subjectId: `R${n}`,
  subjectTitle: `Risk ${n}`,
  rule: 'review-overdue',
  message: `Risk R${n} review is overdue.`,
  severity: 'medium',
  reminderNumber: 2,
  escalated: false,
  daysOverdue: 3,
  ...extra,
});
const texts = (blocks: readonly SlackBlock[]) =>
  blocks.map((block) => {
    if (block.type === 'section' || block.type === 'header') return block.text.text;
    if (block.type === 'context') return block.elements.map((e) => e.text).join(' ');
    return '---';
  });

describe('Slack Block Kit payloads', () => {
  it('escapes &, < and > so owner text cannot inject links or mentions', () => {
    const payload = slackPayloadFor({
      kind: 'risk-digest',
      owner: 'security',
      subject: 's',
      text: '',
      payload: {
        kind: 'risk-digest',
        items: [item(1, { subjectTitle: 'A&B <!channel>', message: 'x > y' })],
        stillOpen: [],
      },
    });
    expect(texts(payload.blocks)[1]).toContain('*R1 A&amp;B &lt;!channel&gt;*');
    expect(texts(payload.blocks)[1]).toContain('x &gt; y');
  });

  it('shows at most 20 items and says how many more the email lists, within 50 blocks', () => {
    const items = Array.from({ length: 30 }, (_, i) => item(i + 1));
    const payload = slackPayloadFor({
      kind: 'risk-digest',
      owner: 'founder',
      subject: '[SOC 2] Risk register: 35 items',
      text: '',
      payload: { kind: 'risk-digest', items, stillOpen: [{ subjectId: 'R99' }], truncated: 5 },
    });
    const sections = payload.blocks.filter((b) => b.type === 'section');
    expect(sections).toHaveLength(20);
    expect(texts(payload.blocks)).toContain('…and 15 more: the email digest lists every item.');
    expect(texts(payload.blocks)).toContain('Still open, reminded recently: R99');
    expect(payload.blocks.length).toBeLessThanOrEqual(50);
  });

  it('renders an escalation with each owner and their reminder count', () => {
    const payload = slackPayloadFor({
      kind: 'escalation-digest',
      owner: 'founder',
      subject: '[SOC 2] Escalation',
      text: '',
      payload: {
        kind: 'escalation-digest',
        items: [
          item(1, {
            subjectId: 'G1',
            owner: 'security',
            ownerName: 'Security team',
            ownerReminders: 3,
            severity: 'high',
          }),
        ],
        stillOpen: [],
      },
    });
    expect(texts(payload.blocks)[0]).toBe('Escalation: 1 risk register item still open');
    expect(texts(payload.blocks)[1]).toMatch(
      /^:red_circle: \*G1 Risk 1\*: review overdue \(3 days\)\n.*\n_Owner: Security team · reminded 3 times_$/,
    );
  });

  it('renders control alerts (and malformed digests) from subject and email text', () => {
    const payload = slackPayloadFor({
      kind: 'control-failed',
      owner: 'security',
      subject: '[SOC 2] audit-log-completeness failed for 2026-10',
      text: 'Control "Audit" FAILED.\n  - a <gap>',
      payload: {},
    });
    expect(texts(payload.blocks)).toEqual([
      '[SOC 2] audit-log-completeness failed for 2026-10',
      'Control "Audit" FAILED.\n  - a &lt;gap&gt;',
      '`control-failed` for security',
    ]);
    const broken = slackPayloadFor({
      kind: 'risk-digest',
      owner: 'x',
      subject: 'S',
      text: 'T',
      payload: 'nope',
    });
    expect(texts(broken.blocks)[1]).toBe('T');
  });
});
