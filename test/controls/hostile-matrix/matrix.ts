import type { Verdict } from '../../../lib/controls/outcome.ts';

/**
 * The hostile-data matrix: for every control test type, the cells (planted data -> expected
 * verdict) that test/controls/hostile-matrix/<type>.test.ts runs one test each for, and that
 * docs/hostile-matrix.md is generated from (so the table cannot drift from the tests).
 */
export const CASES = {
  control: 'control (must pass)',
  empty: 'empty source',
  nulls: 'NULL in a verdict column',
  types: 'wrong column types',
  boundary: 'on / just before / just after a boundary or limit',
  future: 'dated after the check instant',
  outlier: 'a single outlier row',
  duplicates: 'duplicates',
  strings: 'huge and control-character strings',
  privileges: 'missing privileges',
  nothing: 'answers but lists nothing',
  stale: 'stale or incomplete records',
} as const;
export type CaseKind = keyof typeof CASES;

export interface MatrixCell {
  readonly case: CaseKind;
  /** What the cell plants (or leaves out), in one line. */
  readonly plants: string;
  readonly verdict: Verdict;
  /** A reason of a `fail` or `error` must match: it names the cause. */
  readonly reason?: RegExp;
  /** The verdict before this branch's fix of the control, when the cell changed it. */
  readonly before?: Verdict;
  /** The fix that changed the verdict (set with `before`). */
  readonly fix?: string;
}

export interface TypeMatrix<Id extends string = string> {
  /** What the cells run against: real PostgreSQL, an emulator, a stand-in for an AWS API. */
  readonly source: string;
  readonly cells: Readonly<Record<Id, MatrixCell>>;
}

/** Declares one type's cells; the ids become the keys its test file must give a runner for. */
export function defineMatrix<const Id extends string>(matrix: TypeMatrix<Id>): TypeMatrix<Id> {
  for (const [id, cell] of Object.entries<MatrixCell>(matrix.cells)) {
    if (cell.verdict !== 'pass' && cell.reason === undefined)
      throw new Error(`cell ${id}: a ${cell.verdict} cell must say which reason names the cause`);
    if (cell.verdict === 'pass' && cell.case !== 'control' && cell.case !== 'boundary')
      throw new Error(`cell ${id}: only control and on-the-limit cells may expect pass`);
    if ((cell.before === undefined) !== (cell.fix === undefined))
      throw new Error(`cell ${id}: a changed verdict names its fix, and a fix its previous verdict`);
  }
  return matrix;
}
