import { describe, expect, it } from 'vitest';
import type { ControlOutcome } from '../../../lib/controls/outcome.ts';
import type { HarnessRun } from '../control-harness.ts';
import type { TypeMatrix } from './matrix.ts';

/** Runs one cell: plants its data, runs the check, may assert more; returns what the check said. */
export type CellRunner = () => Promise<HarnessRun | ControlOutcome>;

function outcomeOf(result: HarnessRun | ControlOutcome): ControlOutcome {
  return 'outcome' in result ? result.outcome : result;
}

/**
 * One test per cell of a type's matrix. `runners` must name every cell (the type says so), so a
 * cell in the table without a test does not compile. A `pass` cell must pass with no reasons; any
 * other must give its verdict with a reason matching the cell's.
 */
export function describeMatrix<Id extends string>(
  type: string,
  matrix: TypeMatrix<Id>,
  runners: Readonly<Record<Id, CellRunner>>,
): void {
  describe(`${type} hostile matrix (${matrix.source})`, () => {
    for (const [id, cell] of Object.entries(matrix.cells) as [Id, TypeMatrix<Id>['cells'][Id]][]) {
      it(`${id}: ${cell.plants} -> ${cell.verdict}`, async () => {
        const outcome = outcomeOf(await runners[id]());
        expect(outcome.verdict, `reasons: ${JSON.stringify(outcome.reasons)}`).toBe(cell.verdict);
        if (cell.verdict === 'pass') expect(outcome.reasons).toEqual([]);
        else {
          const reason = cell.reason as RegExp;
          expect(
            outcome.reasons.some((line) => reason.test(line)),
            `no reason matches ${reason}: ${JSON.stringify(outcome.reasons)}`,
          ).toBe(true);
        }
      });
    }
  });
}
