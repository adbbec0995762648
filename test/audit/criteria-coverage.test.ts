import { describe, expect, it } from 'vitest';
import { criteriaCoverage } from '../../lib/audit/criteria-coverage.ts';
import { ConfigError, parseConfig } from '../../lib/config/load-config.ts';
import { config, MONTHS, QUARTERS, RAW_CONFIG, verdict, WINDOW } from './fixtures.ts';

const stateOf = (model: ReturnType<typeof criteriaCoverage>, id: string) =>
  model.criteria.find((c) => c.id === id)?.state;

/** A full year of passing verdicts for every control of the fixture. */
const allPassing = () => [
  ...MONTHS.map((m) => verdict('audit-log', 'monthly', m, 'pass')),
  ...MONTHS.map((m) => verdict('restore', 'monthly', m, 'pass')),
  ...QUARTERS.map((q) => verdict('access-review', 'quarterly', q, 'pass')),
  verdict('scans', 'weekly', '2026-W48', 'pass'),
  verdict('pentest', 'annual', '2025', 'pass'),
];

describe('criteria coverage', () => {
  it('lists every reference criterion, P1.x as planned, and the ones nothing evidences', () => {
    const model = criteriaCoverage({ config: config(), window: WINDOW, verdicts: allPassing() });
    expect(model.criteria).toHaveLength(43);
    expect(model.criteria.filter((c) => c.scope === 'planned').map((c) => c.id)).toEqual([
      'P1.1',
      'P1.2',
      'P1.3',
      'P1.4',
    ]);
    expect(model.notEvidenced).toContain('CC1.1');
    expect(model.notEvidenced).not.toContain('CC6.1');
    // A done gap does not count as evidence; an open one is shown but is not a control.
    expect(stateOf(model, 'CC8.1')).toBe('not-evidenced');
    expect(stateOf(model, 'C1.1')).toBe('risk-register-only');
    expect(stateOf(model, 'CC3.2')).toBe('risk-register-only');
    expect(model.blocking).toContain('C1.1');
    expect(stateOf(model, 'CC6.1')).toBe('passing');
    const cc92 = model.criteria.find((c) => c.id === 'CC9.2');
    expect(cc92?.controls.map((c) => [c.controlId, c.method])).toEqual([
      ['scans', 'automated-test'],
      ['pentest', 'manual-attestation'],
    ]);
    expect(model.criteria.find((c) => c.id === 'CC6.1')?.risks.map((r) => [r.riskId, r.score])).toEqual([
      ['R1', 15],
    ]);
  });

  it('with no verdicts at all, no criterion passes', () => {
    const model = criteriaCoverage({ config: config(), window: WINDOW, verdicts: [] });
    expect(model.summary.passing).toBe(0);
    expect(stateOf(model, 'CC6.1')).toBe('not-checked');
    expect(model.blocking).toContain('CC6.1');
    expect(model.criteria.find((c) => c.id === 'CC4.1')?.controls[0]?.periods).toEqual({
      pass: 0,
      fail: 0,
      error: 0,
      missing: 12,
    });
  });

  it('with only error verdicts, every evidenced criterion is not checked, never passing', () => {
    const errors = [
      ...MONTHS.map((m) => verdict('audit-log', 'monthly', m, 'error')),
      ...QUARTERS.map((q) => verdict('access-review', 'quarterly', q, 'error')),
    ];
    const model = criteriaCoverage({ config: config(), window: WINDOW, verdicts: errors });
    expect(stateOf(model, 'CC4.1')).toBe('not-checked');
    expect(stateOf(model, 'CC6.2')).toBe('not-checked');
    expect(model.summary.passing).toBe(0);
  });

  it('a fail in the latest period makes the criterion failing, though earlier periods passed', () => {
    const verdicts = allPassing().filter(
      (v) => !(v.controlId === 'access-review' && v.periodKey === '2026-Q3'),
    );
    verdicts.push(verdict('access-review', 'quarterly', '2026-Q3', 'fail'));
    const model = criteriaCoverage({ config: config(), window: WINDOW, verdicts });
    expect(stateOf(model, 'CC6.1')).toBe('failing');
    expect(model.criteria.find((c) => c.id === 'CC6.1')?.controls[0]?.latest).toMatchObject({
      periodKey: '2026-Q3',
      verdict: 'fail',
      key: 'access-review quarterly 2026-Q3',
    });
  });

  it('ignores a verdict outside the window: an old pass does not cover the year', () => {
    const model = criteriaCoverage({
      config: config(),
      window: WINDOW,
      verdicts: [verdict('access-review', 'quarterly', '2025-Q3', 'pass')],
    });
    expect(stateOf(model, 'CC6.1')).toBe('not-checked');
    expect(model.criteria.find((c) => c.id === 'CC6.1')?.controls[0]?.latest).toBeUndefined();
  });

  it('ignores a future-dated verdict (its period had not ended by --as-of) and says so', () => {
    const verdicts = [
      verdict('access-review', 'quarterly', '2026-Q3', 'fail'),
      verdict('access-review', 'quarterly', '2026-Q4', 'pass'),
    ];
    const model = criteriaCoverage({ config: config(), window: WINDOW, verdicts });
    expect(stateOf(model, 'CC6.1')).toBe('failing');
    expect(model.ignoredVerdicts).toEqual([
      expect.objectContaining({
        controlId: 'access-review',
        periodKey: '2026-Q4',
        reason: expect.stringContaining('future-dated'),
      }),
    ]);
  });

  it('ignores records whose bounds do not match their key, of another cadence, or of unknown controls', () => {
    const forged = {
      ...verdict('access-review', 'quarterly', '2026-Q3', 'pass'),
      periodEnd: '2026-09-01T00:00:00.000Z',
    };
    const model = criteriaCoverage({
      config: config(),
      window: WINDOW,
      verdicts: [
        forged,
        verdict('access-review', 'monthly', '2026-11', 'pass'),
        verdict('ghost', 'monthly', '2026-11', 'pass'),
      ],
    });
    expect(stateOf(model, 'CC6.1')).toBe('not-checked');
    expect(model.ignoredVerdicts.map((v) => v.reason)).toEqual([
      expect.stringContaining('do not match'),
      expect.stringContaining('cadence monthly'),
      'no such control in the config',
    ]);
  });

  it('by design only (verdicts not read), criteria with controls are by-design and only uncovered ones block', () => {
    const model = criteriaCoverage({ config: config(), window: WINDOW });
    expect(model.mode).toBe('design');
    expect(stateOf(model, 'CC6.1')).toBe('by-design');
    expect(model.blocking).not.toContain('CC6.1');
    expect(model.blocking).toContain('CC1.1');
  });

  it('a criterion in scope with every control passing does not block; planned ones never do', () => {
    const model = criteriaCoverage({
      config: config({
        criteria: {
          base: 'none',
          items: [
            { id: 'CC6.1', title: 'Access' },
            { id: 'CC6.2', title: 'Removal' },
            { id: 'CC4.1', title: 'Monitoring' },
            { id: 'CC7.2', title: 'Monitoring 2' },
            { id: 'CC7.3', title: 'DR' },
            { id: 'CC9.2', title: 'Vulns' },
            { id: 'CC7.1', title: 'Change' },
            { id: 'P1.1', title: 'Privacy notice', scope: 'planned' },
          ],
        },
        riskRegister: undefined,
      }),
      window: WINDOW,
      verdicts: allPassing(),
    });
    expect(model.blocking).toEqual([]);
    expect(model.summary).toMatchObject({ inScope: 7, planned: 1, passing: 7 });
  });

  it('the config can retitle, rescope and add criteria', () => {
    const model = criteriaCoverage({
      config: config({
        criteria: {
          items: [
            { id: 'CC1.2', scope: 'out-of-scope' },
            { id: 'CC6.4', title: 'Physical access restrictions' },
            { id: 'CC7.2', title: 'System monitoring' },
          ],
        },
      }),
      window: WINDOW,
      verdicts: [],
    });
    const byId = new Map(model.criteria.map((c) => [c.id, c]));
    expect(byId.get('CC1.2')).toMatchObject({
      scope: 'out-of-scope',
      title: 'Board Oversight',
      source: 'config',
    });
    expect(byId.get('CC6.4')).toMatchObject({
      title: 'Physical access restrictions',
      scope: 'in-scope',
      group: 'CC6',
    });
    expect(byId.get('CC7.2')?.title).toBe('System monitoring');
    expect(model.blocking).not.toContain('CC1.2');
  });
});

describe('criteria in the config', () => {
  const configError = (raw: unknown): string => {
    try {
      parseConfig(raw, 'test');
    } catch (error) {
      if (error instanceof ConfigError) return error.issues.join('\n');
      throw error;
    }
    return '(no error)';
  };

  it('rejects a control naming a criterion that is not in the catalogue, naming the field', () => {
    const raw = structuredClone(RAW_CONFIG);
    (raw.controls[1] as { criteria: string[] }).criteria = ['CC6.1', 'CC6.9'];
    expect(configError(raw)).toContain('controls[1].criteria[1]: unknown criterion "CC6.9"');
  });

  it('rejects a risk naming an unknown criterion', () => {
    const raw = structuredClone(RAW_CONFIG);
    (raw.riskRegister.risks[0] as { criteria: string[] }).criteria = ['CC3.9'];
    expect(configError(raw)).toContain('riskRegister.risks[0].criteria[0]: unknown criterion "CC3.9"');
  });

  it('accepts a criterion once the config adds it, and requires a title for a new one', () => {
    const raw = structuredClone(RAW_CONFIG);
    (raw.controls[1] as { criteria: string[] }).criteria = ['CC6.4'];
    expect(configError({ ...raw, criteria: { items: [{ id: 'CC6.4', title: 'Physical access' }] } })).toBe(
      '(no error)',
    );
    expect(configError({ ...raw, criteria: { items: [{ id: 'CC6.4' }] } })).toContain(
      'criteria.items[0].title: criterion "CC6.4" is not in the reference catalogue',
    );
  });

  it('with base none, the reference criteria are gone and controls naming them are rejected', () => {
    expect(configError({ ...structuredClone(RAW_CONFIG), criteria: { base: 'none', items: [] } })).toContain(
      'controls[0].criteria[0]: unknown criterion "CC4.1"',
    );
  });

  it('rejects unknown keys and bad scopes in the criteria section', () => {
    expect(
      configError({ ...structuredClone(RAW_CONFIG), criteria: { items: [{ id: 'CC1.1', scope: 'maybe' }] } }),
    ).toContain('criteria.items[0].scope');
    expect(configError({ ...structuredClone(RAW_CONFIG), criteria: { extra: true } })).toContain('criteria');
  });
});
