import type { ControlTestType } from '../../../lib/controls/registry.ts';
import { accessReviewMatrix } from './cells/access-review.ts';
import { encryptionConfigMatrix } from './cells/encryption-config.ts';
import { logCompletenessMatrix } from './cells/log-completeness.ts';
import { manualAttestationMatrix } from './cells/manual-attestation.ts';
import { restoreTestHistoryMatrix } from './cells/restore-test-history.ts';
import { restoreVerificationMatrix } from './cells/restore-verification.ts';
import { scheduleHealthMatrix } from './cells/schedule-health.ts';
import { secretRotationMatrix } from './cells/secret-rotation.ts';
import { vulnerabilityScanMatrix } from './cells/vulnerability-scan.ts';
import { CASES, type CaseKind, type MatrixCell, type TypeMatrix } from './matrix.ts';

/** Every registered test type's matrix: a type added to the registry without one does not compile. */
export const MATRIX: Readonly<Record<ControlTestType, TypeMatrix>> = {
  'log-completeness': logCompletenessMatrix,
  'secret-rotation': secretRotationMatrix,
  'vulnerability-scan': vulnerabilityScanMatrix,
  'access-review': accessReviewMatrix,
  'manual-attestation': manualAttestationMatrix,
  'schedule-health': scheduleHealthMatrix,
  'restore-verification': restoreVerificationMatrix,
  'restore-test-history': restoreTestHistoryMatrix,
  'encryption-config': encryptionConfigMatrix,
};

const LETTER = { pass: 'P', fail: 'F', error: 'E' } as const;
const tableText = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function cellsOf(matrix: TypeMatrix): [string, MatrixCell][] {
  return Object.entries(matrix.cells);
}

/** docs/hostile-matrix.md, generated from MATRIX (test/controls/hostile-matrix/docs-table.test.ts keeps it current). */
export function renderMatrixMarkdown(): string {
  const types = Object.keys(MATRIX) as ControlTestType[];
  const kinds = Object.keys(CASES) as CaseKind[];
  const lines: string[] = [
    '# Hostile-data matrix',
    '',
    '<!-- Generated from test/controls/hostile-matrix/cells/*.ts by test/controls/hostile-matrix/docs-table.test.ts',
    '     (SOC2_WRITE_DOCS=1 npx vitest run test/controls/hostile-matrix/docs-table.test.ts). Do not edit by hand. -->',
    '',
    'Every cell is one test in `test/controls/hostile-matrix/<type>.test.ts`, against the source named per type.',
    '`P` pass, `F` fail, `E` error. Only control cells and cells exactly on an inclusive limit may pass; every',
    'other cell must fail or error with a reason naming the cause (the test matches it). `*` marks a cell whose',
    'verdict a fix in this branch changed (listed at the end).',
    '',
    '## Summary (test type x case)',
    '',
    `| test type | ${kinds.map((kind) => CASES[kind]).join(' | ')} |`,
    `|---|${kinds.map(() => '---').join('|')}|`,
  ];
  for (const type of types) {
    const row = kinds.map((kind) => {
      const cells = cellsOf(MATRIX[type]).filter(([, cell]) => cell.case === kind);
      if (cells.length === 0) return 'n/a';
      return cells
        .map(([, cell]) => `${LETTER[cell.verdict]}${cell.before && cell.before !== cell.verdict ? '*' : ''}`)
        .join(' ');
    });
    lines.push(`| ${type} | ${row.join(' | ')} |`);
  }
  const total = types.reduce((sum, type) => sum + cellsOf(MATRIX[type]).length, 0);
  lines.push('', `${total} cells in ${types.length} test types.`, '');
  for (const type of types) {
    const matrix = MATRIX[type];
    lines.push(
      `## ${type}`,
      '',
      `Source: ${tableText(matrix.source)}.`,
      '',
      '| cell | case | plants | verdict | reason matched |',
      '|---|---|---|---|---|',
    );
    for (const [id, cell] of cellsOf(matrix)) {
      const changed = cell.before && cell.before !== cell.verdict ? ` (was ${cell.before})` : '';
      const reason = cell.reason ? `\`${tableText(cell.reason.source)}\`` : '';
      lines.push(
        `| \`${id}\` | ${CASES[cell.case]} | ${tableText(cell.plants)} | ${cell.verdict}${changed} | ${reason} |`,
      );
    }
    lines.push('');
  }
  lines.push(
    '## Cells changed by a fix in this branch',
    '',
    '| test type | cell | before | after | fix |',
    '|---|---|---|---|---|',
  );
  for (const type of types) {
    for (const [id, cell] of cellsOf(MATRIX[type])) {
      if (cell.before && cell.fix)
        lines.push(`| ${type} | \`${id}\` | ${cell.before} | ${cell.verdict} | ${tableText(cell.fix)} |`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
