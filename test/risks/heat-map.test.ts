import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { risksCommand } from '../../lib/cli/risks-command.ts';
import { loadConfig } from '../../lib/config/load-config.ts';
import { buildHeatMaps, cellAt, renderHeatMapText } from '../../lib/risks/heat-map.ts';
import { register, riskInput } from './fixtures.ts';

describe('heat map model', () => {
  it('puts R2 in (4,4) and R1 in (3,5) on the example register, every risk exactly once', async () => {
    const config = await loadConfig('soc2-evidence.yaml');
    const maps = buildHeatMaps(config.riskRegister ?? register({}));
    expect(cellAt(maps.inherent, 4, 4)).toMatchObject({
      riskIds: ['R2'],
      count: 1,
      score: 16,
      band: 'at-or-above-threshold',
    });
    expect(cellAt(maps.inherent, 3, 5)).toMatchObject({
      riskIds: ['R1'],
      count: 1,
      score: 15,
      band: 'at-or-above-threshold',
    });
    expect(cellAt(maps.inherent, 2, 4)?.riskIds).toEqual(['R6', 'R10']);
    expect(maps.inherent.cells).toHaveLength(25);
    expect(maps.inherent.cells.flatMap((c) => c.riskIds).sort()).toEqual(
      config.riskRegister?.risks.map((r) => r.id).sort(),
    );
    // The reference records no residual scores: the residual map is the inherent one, and says why.
    expect(maps.residual.cells).toEqual(maps.inherent.cells);
    expect(maps.residualNotStated).toHaveLength(10);
  });

  it('lists the risks of a cell, and those without a stated residual, in id order (R2 before R10)', () => {
    const risks = ['R10', 'R2', 'R9'].map((id) => riskInput({ id, likelihood: 2, impact: 4 }));
    const maps = buildHeatMaps(register({ risks }));
    expect(cellAt(maps.inherent, 2, 4)?.riskIds).toEqual(['R2', 'R9', 'R10']);
    expect(cellAt(maps.residual, 2, 4)?.riskIds).toEqual(['R2', 'R9', 'R10']);
    expect(maps.residualNotStated).toEqual(['R2', 'R9', 'R10']);
  });

  it('colours by the threshold: 12 (3 x 4, 4 x 3) is at it, 10 is below; a custom threshold moves the line', () => {
    const maps = buildHeatMaps(register({}));
    expect(cellAt(maps.inherent, 3, 4)?.band).toBe('at-or-above-threshold');
    expect(cellAt(maps.inherent, 4, 3)?.band).toBe('at-or-above-threshold');
    expect(cellAt(maps.inherent, 2, 5)?.band).toBe('below-threshold');
    expect(maps.inherent.cells.filter((c) => c.band === 'at-or-above-threshold')).toHaveLength(8);
    const strict = buildHeatMaps(register({ settings: { scoreThreshold: 20 } }));
    expect(
      strict.inherent.cells.filter((c) => c.band === 'at-or-above-threshold').map((c) => c.score),
    ).toEqual([20, 25, 20]);
  });

  it('places a risk by its residual score on the residual map, by its inherent score on the other', () => {
    const maps = buildHeatMaps(
      register({
        risks: [riskInput({ id: 'R1', likelihood: 3, impact: 5, residual: { likelihood: 1, impact: 5 } })],
      }),
    );
    expect(cellAt(maps.inherent, 3, 5)?.riskIds).toEqual(['R1']);
    expect(cellAt(maps.residual, 3, 5)?.riskIds).toEqual([]);
    expect(cellAt(maps.residual, 1, 5)?.riskIds).toEqual(['R1']);
    expect(maps.residualNotStated).toEqual([]);
  });

  it('agrees with a naive count for any register (generated)', () => {
    const score = fc.integer({ min: 1, max: 5 });
    fc.assert(
      fc.property(
        fc.array(fc.record({ l: score, i: score, rl: score, ri: score, residual: fc.boolean() }), {
          maxLength: 40,
        }),
        (rows) => {
          const risks = rows.map((row, index) => {
            const residual = { likelihood: Math.min(row.rl, row.l), impact: Math.min(row.ri, row.i) };
            return riskInput({
              id: `R${index + 1}`,
              likelihood: row.l,
              impact: row.i,
              ...(row.residual ? { residual } : {}),
            });
          });
          const maps = buildHeatMaps(register({ risks }));
          for (const map of [maps.inherent, maps.residual]) {
            expect(map.cells.reduce((sum, c) => sum + c.count, 0)).toBe(risks.length);
            for (const cell of map.cells) {
              const naive = rows
                .map((row, index) => ({ row, id: `R${index + 1}` }))
                .filter(({ row }) => {
                  const [l, i] =
                    map.kind === 'residual' && row.residual
                      ? [Math.min(row.rl, row.l), Math.min(row.ri, row.i)]
                      : [row.l, row.i];
                  return l === cell.likelihood && i === cell.impact;
                })
                .map(({ id }) => id);
              expect([...cell.riskIds].sort()).toEqual(naive.sort());
              expect(cell.band === 'at-or-above-threshold').toBe(cell.likelihood * cell.impact >= 12);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('soc2-evidence risks --matrix', () => {
  it('prints the inherent and residual grids, R2 at likelihood 4 x impact 4 and R1 at 3 x 5', async () => {
    const out: string[] = [];
    const code = await risksCommand(['--matrix'], { stdout: (s) => out.push(s), stderr: () => {}, env: {} });
    expect(code).toBe(0);
    const text = out.join('\n');
    const inherent = text.split('\n\n')[0] ?? '';
    const row = (likelihood: number) =>
      (inherent.split('\n').find((line) => line.startsWith(`likelihood ${likelihood} `)) ?? '')
        .slice(`likelihood ${likelihood}  `.length)
        .trim()
        .split(/\s+/);
    expect(row(4)).toEqual(['.', '.', '[R7]', '[R2]', '[.]']);
    expect(row(3)).toEqual(['.', '.', 'R4,R9', '[R5]', '[R1]']);
    expect(row(2)).toEqual(['.', '.', '.', 'R6,R10', 'R3,R8']);
    expect(text).toContain('Residual risk: 10 risks');
    expect(text).toContain('No residual score recorded (shown at the inherent score): R1, R2');
  });

  it('renders an empty register as an empty grid', () => {
    const text = renderHeatMapText(buildHeatMaps(register({})).inherent);
    expect(text).toContain('Inherent risk: 0 risks');
    expect(text.match(/R\d/g)).toBeNull();
  });
});

describe('heat map text, exactly', () => {
  // Ids sort numerically within a cell (R2 before R10), a label wider than the 10-character column
  // widens every column, rows run from likelihood 5 down, and trailing blanks are trimmed.
  const maps = buildHeatMaps(
    register({
      risks: [
        riskInput({ id: 'R10', likelihood: 5, impact: 5, residual: { likelihood: 1, impact: 1 } }),
        riskInput({ id: 'R2', likelihood: 5, impact: 5 }),
        riskInput({ id: 'R100', likelihood: 5, impact: 5 }),
        riskInput({ id: 'R1', likelihood: 1, impact: 2 }),
      ],
    }),
  );

  it('prints the inherent grid with ids sorted and brackets at or above the threshold', () => {
    const pad = (text: string) => text.padEnd(13);
    const row = (likelihood: number, cells: string[]) =>
      `likelihood ${likelihood}  ${cells.map(pad).join(' ')}`.trimEnd();
    const empty = (n: number) => Array.from({ length: n }, () => ' . ');
    expect(renderHeatMapText(maps.inherent)).toBe(
      [
        `Inherent risk: 4 risks, likelihood x impact; [bracketed] cells score at or above the threshold of ${maps.threshold}`,
        `              ${[1, 2, 3, 4, 5].map((i) => pad(`impact ${i}`)).join(' ')}`.trimEnd(),
        row(5, [' . ', ' . ', '[.]', '[.]', '[R2,R10,R100]']),
        row(4, [' . ', ' . ', '[.]', '[.]', '[.]']),
        row(3, [' . ', ' . ', ' . ', '[.]', '[.]']),
        row(2, [' . ', ' . ', ' . ', ' . ', ' . ']),
        row(1, [' . ', ' R1 ', ...empty(3)]),
      ].join('\n'),
    );
    expect(maps.threshold).toBe(12);
  });

  it('says "risk" for one placed risk on the residual map, and lists the risks without a stated residual in id order', () => {
    const one = buildHeatMaps(register({ risks: [riskInput({ id: 'R7' })] }));
    expect(renderHeatMapText(one.residual).split('\n')[0]).toBe(
      'Residual risk: 1 risk, likelihood x impact; [bracketed] cells score at or above the threshold of 12',
    );
    expect(renderHeatMapText(one.residual).split('\n')[1]).toBe(
      `              ${[1, 2, 3, 4, 5].map((i) => `impact ${i}`.padEnd(10)).join(' ')}`.trimEnd(),
    );
    expect(maps.residualNotStated).toEqual(['R1', 'R2', 'R100']);
    expect(cellAt(maps.residual, 1, 1)?.riskIds).toEqual(['R10']);
  });
});
