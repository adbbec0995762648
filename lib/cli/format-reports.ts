import type { Figure } from '../controls/outcome.ts';
import type { ControlRunReport } from '../runs/run-control.ts';
import { renderTable } from './table.ts';

function formatFigure(value: Figure): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return String(value);
}

export function keyFigures(figures: Readonly<Record<string, Figure>>, limit = 4): string {
  return Object.entries(figures)
    .filter(([, value]) => value !== null && typeof value !== 'string')
    .slice(0, limit)
    .map(([name, value]) => `${name}=${formatFigure(value)}`)
    .join(' ');
}

export interface ReportRow {
  readonly report: ControlRunReport;
  /** Notifications for this control received through the inbox subscription (demo only). */
  readonly delivered?: number;
  /** Whether the stored object's SHA-256 matched the verdict's (demo only). */
  readonly hashVerified?: boolean;
}

export function renderRunReports(rows: readonly ReportRow[]): string {
  const withDelivery = rows.some((row) => row.delivered !== undefined);
  const headers = [
    'control',
    'period',
    'verdict',
    'key figures',
    'evidence',
    withDelivery ? 'notified' : 'notifications',
  ];
  const body = rows.map(({ report, delivered, hashVerified }) => [
    report.job.controlId,
    `${report.job.cadence} ${report.job.periodKey}`,
    report.outcome.verdict.toUpperCase() +
      (report.verdict.attempts > 1 ? ` (attempt ${report.verdict.attempts})` : ''),
    keyFigures(report.outcome.figures),
    report.verdict.evidenceKey +
      (hashVerified === undefined ? '' : hashVerified ? ' [sha256 ok]' : ' [SHA256 MISMATCH]'),
    String(delivered ?? report.notificationIds.length),
  ]);
  const reasons = rows
    .filter(({ report }) => report.outcome.verdict !== 'pass')
    .flatMap(({ report }) => [
      `${report.job.controlId} ${report.job.periodKey} ${report.outcome.verdict}:`,
      ...report.outcome.reasons.map((r) => `  - ${r}`),
    ]);
  return [renderTable(headers, body, 72), ...(reasons.length ? ['', ...reasons] : [])].join('\n');
}
