import { describe, expect, it } from 'vitest';
import { computeReadiness, type Readiness } from '../../lib/audit/readiness.ts';
import { DEFAULT_READINESS_ITEMS } from '../../lib/audit/readiness-schema.ts';
import { ConfigError, parseConfig } from '../../lib/config/load-config.ts';
import { config, MONTHS, QUARTERS, RAW_CONFIG, verdict, WINDOW } from './fixtures.ts';

const item = (model: Readiness, id: string) => {
  const found = model.items.find((i) => i.id === id);
  if (!found) throw new Error(`no item ${id}`);
  return found;
};

const retained = (oldestEvent: string | null) =>
  verdict(
    'audit-log',
    'monthly',
    '2026-11',
    'pass',
    { events: 100, oldestEvent },
    '2026-12-01T00:15:00.000Z',
  );

describe('pre-audit readiness', () => {
  it('reproduces the reference checklist: 17 items in its three sections and order', () => {
    const model = computeReadiness({ config: config(), window: WINDOW, verdicts: [] });
    expect(model.items.map((i) => i.title)).toEqual(DEFAULT_READINESS_ITEMS.map((i) => i.title));
    expect(model.items).toHaveLength(17);
    expect(model.items.filter((i) => i.section === 'documentation')).toHaveLength(5);
    expect(model.items.filter((i) => i.section === 'technical-controls')).toHaveLength(6);
    expect(model.items.filter((i) => i.section === 'evidence-collection')).toHaveLength(6);
  });

  it('with no verdicts at all, nothing is ready: every item is unknown', () => {
    const model = computeReadiness({ config: config(), window: WINDOW, verdicts: [] });
    expect(model.summary).toEqual({ ready: 0, 'not-ready': 0, unknown: 17 });
    expect(model.ready).toBe(false);
  });

  it('without the results table (verdicts not read), derived items are unknown and say why', () => {
    const model = computeReadiness({ config: config(), window: WINDOW });
    expect(model.mode).toBe('design');
    expect(item(model, 'access-reviews')).toMatchObject({ status: 'unknown', controls: ['access-review'] });
    expect(item(model, 'access-reviews').reasons[0]).toContain('verdicts were not read');
  });

  it('only error verdicts: unknown (could not check), never ready', () => {
    const verdicts = [
      ...QUARTERS.map((q) => verdict('access-review', 'quarterly', q, 'error')),
      verdict('audit-log', 'monthly', '2026-11', 'error', { oldestEvent: '2020-01-01T00:00:00.000Z' }),
      verdict('pentest', 'annual', '2025', 'error'),
    ];
    const model = computeReadiness({ config: config(), window: WINDOW, verdicts });
    expect(item(model, 'access-reviews').status).toBe('unknown');
    expect(item(model, 'access-reviews').reasons).toContain(
      '2026-Q1: access-review could not be checked (error verdicts only)',
    );
    // An error run's figures are not trusted, however good they look.
    expect(item(model, 'audit-log-retention').status).toBe('unknown');
    expect(item(model, 'penetration-test').status).toBe('unknown');
    expect(item(model, 'audit-logging').status).toBe('unknown');
  });

  it('access reviews: ready only with a pass in every quarter of the window', () => {
    const all = QUARTERS.map((q) => verdict('access-review', 'quarterly', q, 'pass'));
    const ready = computeReadiness({ config: config(), window: WINDOW, verdicts: all });
    expect(item(ready, 'access-reviews')).toMatchObject({ status: 'ready', owners: ['security'] });
    expect(item(ready, 'access-reviews').evidence.map((e) => e.key)).toEqual(
      QUARTERS.map((q) => `access-review quarterly ${q}`),
    );
    // A missing quarter: the evidence is missing, so unknown (not ready by default), naming the quarter.
    const missing = computeReadiness({
      config: config(),
      window: WINDOW,
      verdicts: all.filter((v) => v.periodKey !== '2026-Q2'),
    });
    expect(item(missing, 'access-reviews').status).toBe('unknown');
    expect(item(missing, 'access-reviews').reasons).toEqual([
      '3 of 4 quarterly periods have a passing verdict',
      '2026-Q2: no verdict of access-review',
      expect.stringContaining('2025-Q4: access-review passed'),
      expect.any(String),
      expect.any(String),
    ]);
    // A failed quarter is a definite no.
    const failed = computeReadiness({
      config: config(),
      window: WINDOW,
      verdicts: [
        ...all.filter((v) => v.periodKey !== '2026-Q2'),
        verdict('access-review', 'quarterly', '2026-Q2', 'fail'),
      ],
    });
    expect(item(failed, 'access-reviews').status).toBe('not-ready');
  });

  it('a verdict outside the window does not fill a quarter of it', () => {
    const verdicts = [
      verdict('access-review', 'quarterly', '2025-Q3', 'pass'),
      ...QUARTERS.slice(1).map((q) => verdict('access-review', 'quarterly', q, 'pass')),
    ];
    const model = computeReadiness({ config: config(), window: WINDOW, verdicts });
    expect(item(model, 'access-reviews').status).toBe('unknown');
    expect(item(model, 'access-reviews').reasons).toContain('2025-Q4: no verdict of access-review');
  });

  it('a future-dated verdict is ignored, not counted as the newest evidence', () => {
    const verdicts = [
      verdict('audit-log', 'monthly', '2026-11', 'fail'),
      verdict('audit-log', 'monthly', '2027-01', 'pass'),
      verdict('pentest', 'annual', '2026', 'pass'),
    ];
    const model = computeReadiness({ config: config(), window: WINDOW, verdicts });
    expect(item(model, 'audit-logging').status).toBe('not-ready');
    expect(item(model, 'penetration-test').status).toBe('unknown');
    expect(model.ignoredVerdicts.map((v) => v.periodKey).sort()).toEqual(['2026', '2027-01']);
  });

  it('DR tests: a passing restore in each quarter (any month of it) is enough; a failed month is not', () => {
    // One passing month per quarter; the other months failed.
    const passing = new Set(['2025-12', '2026-02', '2026-06', '2026-07']);
    const verdicts = MONTHS.map((m) => verdict('restore', 'monthly', m, passing.has(m) ? 'pass' : 'fail'));
    const model = computeReadiness({ config: config(), window: WINDOW, verdicts });
    expect(item(model, 'dr-tests')).toMatchObject({ status: 'ready', owners: ['sre'] });
    expect(item(model, 'dr-tests').reasons[0]).toBe(
      'a passing verdict in each of the 4 quarterly periods 2025-Q4..2026-Q3',
    );
    // The quarter in progress is named but not owed.
    expect(item(model, 'dr-tests').reasons).toContain(
      '2026-Q4 (in progress, not yet owed): restore fail 2026-10',
    );
    const noQ3 = computeReadiness({
      config: config(),
      window: WINDOW,
      verdicts: verdicts.map((v) =>
        v.periodKey === '2026-07' ? verdict('restore', 'monthly', '2026-07', 'fail') : v,
      ),
    });
    expect(item(noQ3, 'dr-tests').status).toBe('not-ready');
    expect(item(noQ3, 'dr-tests').reasons[1]).toContain('2026-Q3: no passing verdict');
  });

  it('vulnerability scans: each of the last 4 complete weeks must pass', () => {
    const weeks = ['2026-W45', '2026-W46', '2026-W47', '2026-W48'];
    const all = weeks.map((w) => verdict('scans', 'weekly', w, 'pass'));
    expect(
      item(computeReadiness({ config: config(), window: WINDOW, verdicts: all }), 'vulnerability-scans')
        .status,
    ).toBe('ready');
    const gap = all.filter((v) => v.periodKey !== '2026-W46');
    const model = computeReadiness({ config: config(), window: WINDOW, verdicts: gap });
    expect(item(model, 'vulnerability-scans').status).toBe('unknown');
    expect(item(model, 'vulnerability-scans').reasons).toContain('2026-W46: no verdict of scans');
  });

  it('audit log retention: ready at 365 days, not ready a day short, unknown without the figure', () => {
    const at = (oldest: string | null) =>
      item(
        computeReadiness({ config: config(), window: WINDOW, verdicts: [retained(oldest)] }),
        'audit-log-retention',
      );
    // Checked 2026-12-01T00:15Z but --as-of is 00:00: retention counts to the earlier of the two.
    expect(at('2025-12-01T00:00:00.000Z')).toMatchObject({
      status: 'ready',
      facts: { 'audit-log.oldestEvent': '2025-12-01T00:00:00.000Z', 'audit-log.retainedDays': 365 },
    });
    expect(at('2025-12-01T00:00:00.001Z').status).toBe('not-ready');
    expect(at('2025-12-02T00:00:00.000Z').reasons[0]).toContain('364 days old, less than P365D');
    expect(at(null).reasons[0]).toContain('held no events');
    expect(at(null).status).toBe('not-ready');
    expect(at('2027-01-01T00:00:00.000Z').status).toBe('not-ready');
    expect(at('not a time').status).toBe('unknown');
    const noFigure = verdict('audit-log', 'monthly', '2026-11', 'pass', { events: 3 });
    expect(
      item(
        computeReadiness({ config: config(), window: WINDOW, verdicts: [noFigure] }),
        'audit-log-retention',
      ).status,
    ).toBe('unknown');
  });

  it('penetration test: decided by the manual-attestation control watching the same upload folder', () => {
    const pass = computeReadiness({
      config: config(),
      window: WINDOW,
      verdicts: [verdict('pentest', 'annual', '2025', 'pass')],
    });
    expect(item(pass, 'penetration-test')).toMatchObject({
      status: 'ready',
      controls: ['pentest'],
      upload: { prefix: 'attestations/penetration-test/{period}/' },
    });
    const fail = computeReadiness({
      config: config(),
      window: WINDOW,
      verdicts: [verdict('pentest', 'annual', '2025', 'fail')],
    });
    expect(item(fail, 'penetration-test').status).toBe('not-ready');
  });

  it('manual items with no control are unknown, name the folder, and go to the default owner', () => {
    const model = computeReadiness({
      config: config({ readiness: { defaultOwner: 'sre' } }),
      window: WINDOW,
      verdicts: [],
    });
    expect(item(model, 'security-training')).toMatchObject({
      status: 'unknown',
      owners: ['sre'],
      upload: { prefix: 'attestations/security-training/{period}/' },
    });
    const unassigned = computeReadiness({ config: config(), window: WINDOW, verdicts: [] });
    expect(item(unassigned, 'security-training').owners).toEqual([]);
  });

  it('all ready only when every item is: a config whose checklist is fully evidenced', () => {
    const model = computeReadiness({
      config: config({
        readiness: {
          base: 'none',
          items: [
            {
              id: 'reviews',
              title: 'Access reviews',
              section: 'evidence-collection',
              kind: 'every-period',
              controls: ['access-review'],
            },
          ],
        },
      }),
      window: WINDOW,
      verdicts: QUARTERS.map((q) => verdict('access-review', 'quarterly', q, 'pass')),
    });
    expect(model.ready).toBe(true);
    expect(model.summary).toEqual({ ready: 1, 'not-ready': 0, unknown: 0 });
  });

  it('an item whose test type no control has is unknown', () => {
    const raw = structuredClone(RAW_CONFIG);
    raw.controls = raw.controls.filter((c) => c.id !== 'scans');
    const model = computeReadiness({ config: parseConfig(raw), window: WINDOW, verdicts: [] });
    expect(item(model, 'vulnerability-scans')).toMatchObject({ status: 'unknown', controls: [] });
    expect(item(model, 'vulnerability-scans').reasons[0]).toBe(
      'no control in the config is a vulnerability-scan test',
    );
  });

  it('the model survives JSON (the export carries it as readiness.json)', () => {
    const model = computeReadiness({
      config: config(),
      window: WINDOW,
      verdicts: [retained('2020-01-01T00:00:00.000Z')],
    });
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
  });
});

describe('readiness in the config', () => {
  const configError = (readiness: unknown): string => {
    try {
      parseConfig({ ...structuredClone(RAW_CONFIG), readiness }, 'test');
    } catch (error) {
      if (error instanceof ConfigError) return error.issues.join('\n');
      throw error;
    }
    return '(no error)';
  };

  it('names the field of an unknown control, owner, or a retention item on a test without the figure', () => {
    expect(
      configError({
        items: [
          { id: 'x', title: 'X', section: 'documentation', kind: 'latest-verdict', controls: ['nope'] },
        ],
      }),
    ).toContain('readiness.items[0].controls[0]: unknown control "nope"');
    expect(configError({ defaultOwner: 'nobody' })).toContain(
      'readiness.defaultOwner: unknown owner "nobody"',
    );
    expect(
      configError({
        items: [
          {
            id: 'x',
            title: 'X',
            section: 'evidence-collection',
            kind: 'retention',
            controls: ['access-review'],
          },
        ],
      }),
    ).toContain(
      'readiness.items[0].controls[0]: control "access-review" is a access-review test, which records no oldestEvent figure',
    );
    expect(
      configError({ items: [{ id: 'x', title: 'X', section: 'evidence-collection', kind: 'every-period' }] }),
    ).toContain('readiness.items[0].controls: expected exactly one of `controls` or `testTypes`');
    expect(configError({ items: [{ id: 'x', title: 'X', section: 'elsewhere', kind: 'manual' }] })).toContain(
      'readiness.items[0].section',
    );
  });
});
