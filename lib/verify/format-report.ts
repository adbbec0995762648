import type { Finding, VerificationReport } from './verify-archive.ts';

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) => pad(cell, widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

function where(finding: Finding): string {
  const scope = [finding.controlId, finding.periodKey].filter(Boolean).join(' ');
  return scope ? `[${scope}] ` : '';
}

/** The human report: what was read, the keys, one line per control, then every problem by name. */
export function formatReport(report: VerificationReport): string {
  const lines: string[] = [];
  lines.push(
    `soc2-evidence verify: ${report.source} (${report.kind}, ${report.files} files, ${megabytes(report.bytes)})`,
  );
  const range =
    report.range.from || report.range.to
      ? `${report.range.from ?? '…'} to ${report.range.to ?? '…'}`
      : 'everything present';
  lines.push(
    `range: ${range} (${report.rangeFrom === 'none' ? 'whole chain' : `from ${report.rangeFrom}`}); periods due by ${report.asOf}`,
  );
  lines.push('');
  lines.push('signing keys (compare with the fingerprint of your KMS key; pin it with --trusted-key):');
  if (report.keys.length === 0) lines.push('  (none)');
  for (const key of report.keys) {
    const trust = key.trusted === null ? '' : key.trusted ? ', trusted' : ', NOT TRUSTED';
    lines.push(`  ${key.fingerprint}  ${key.manifests} manifest(s)${trust}`);
  }
  lines.push('');
  const rows: string[][] = [['control', 'cadence', 'chain', 'periods', 'pass', 'fail', 'error', 'status']];
  for (const control of report.controls) {
    rows.push([
      control.controlId,
      control.cadence,
      `#${control.firstSequence}-${control.lastSequence}${control.orphans ? ` (+${control.orphans} orphan)` : ''}`,
      `${control.coveredPeriods}/${control.expectedPeriods}`,
      String(control.verdicts.pass),
      String(control.verdicts.fail),
      String(control.verdicts.error),
      control.ok ? 'OK' : `${control.problems} problem(s)`,
    ]);
  }
  if (report.controls.length === 0) lines.push('no manifests found');
  else lines.push(...table(rows));
  if (report.problems.length > 0) {
    lines.push('', `PROBLEMS (${report.problems.length}):`);
    for (const finding of report.problems)
      lines.push(`  ${finding.code}: ${where(finding)}${finding.message}`);
  }
  if (report.notes.length > 0) {
    lines.push('', `notes (${report.notes.length}):`);
    for (const finding of report.notes) lines.push(`  ${finding.code}: ${where(finding)}${finding.message}`);
  }
  lines.push('');
  lines.push(
    report.ok
      ? `VERIFIED: ${report.artifactsChecked} artifact(s) match their manifests, ${report.signaturesValid} signature(s) valid, ${report.controls.length} chain(s) complete.`
      : `FAILED: ${report.problems.length} problem(s) found.`,
  );
  return `${lines.join('\n')}\n`;
}
