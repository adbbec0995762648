import { computeReadiness, type Readiness, type ReadinessStatus } from '../audit/readiness.ts';
import { READINESS_SECTIONS, type ReadinessSection } from '../audit/readiness-schema.ts';
import { DEFAULT_CONFIG_PATH } from '../config/load-config.ts';
import { ENV } from '../shared/runtime-env.ts';
import { auditCommand, windowLine } from './audit-command.ts';
import { EXIT } from './io.ts';

export const READINESS_HELP = `Usage: soc2-evidence readiness [options]

Computes the pre-audit checklist (\`readiness\` in the config; by default the reference Pre-Audit
Checklist: documentation, technical controls, evidence collection) and prints each item as ready,
not ready or unknown, with the reason and the verdicts behind it. Items derived from evidence read
the verdicts in ${ENV.resultsTable}; manual items name their owner and the folder to upload to, and
are decided by the manual-attestation control watching that folder. An item is unknown whenever its
evidence is missing or could not be checked: nothing is ready by default.

Options:
  --as-of DATE    evaluate as of this date (YYYY-MM-DD, start of that day in the config's time zone)
                  or ISO instant (default: now)
  --from DATE     first day of the window (default: one year before --as-of)
  --json          print the readiness model as JSON (the export's readiness.json)
  --config PATH   configuration file (default: ${DEFAULT_CONFIG_PATH})
  -h, --help      show this help

Exit codes: 0 every item is ready, 1 some item is not ready or unknown, 2 bad usage or configuration.`;

const STATUS_LABEL: Record<ReadinessStatus, string> = {
  ready: 'READY',
  'not-ready': 'NOT READY',
  unknown: 'UNKNOWN',
};

const SECTION_TITLE: Record<ReadinessSection, string> = {
  documentation: 'Documentation',
  'technical-controls': 'Technical Controls',
  'evidence-collection': 'Evidence Collection',
};

export function renderReadiness(model: Readiness): string {
  const s = model.summary;
  const lines = [
    `Pre-audit readiness ${windowLine(model)}`,
    `${model.items.length} items: ${s.ready} ready, ${s['not-ready']} not ready, ${s.unknown} unknown.`,
  ];
  for (const section of READINESS_SECTIONS) {
    const items = model.items.filter((item) => item.section === section);
    if (items.length === 0) continue;
    lines.push('', SECTION_TITLE[section]);
    for (const item of items) {
      lines.push(`  [${STATUS_LABEL[item.status].padEnd(9)}] ${item.title} (${item.id})`);
      for (const reason of item.reasons) lines.push(`      ${reason}`);
      const who = item.owners.length > 0 ? item.owners.join(', ') : 'unassigned';
      if (item.upload)
        lines.push(`      owner ${who}; upload ${item.upload.expects} to ${item.upload.prefix}`);
      else lines.push(`      owner ${who}; decided by ${item.controls.join(', ') || '(no control)'}`);
      if (item.evidence.length > 0)
        lines.push(`      evidence: ${item.evidence.map((e) => `${e.key} (${e.verdict})`).join('; ')}`);
    }
  }
  if (model.ignoredVerdicts.length > 0) {
    lines.push('', 'Ignored verdicts:');
    for (const v of model.ignoredVerdicts)
      lines.push(`  ${v.controlId} ${v.cadence} ${v.periodKey}: ${v.reason}`);
  }
  return lines.join('\n');
}

/** `soc2-evidence readiness`: see READINESS_HELP. */
export const readinessCommand = auditCommand({
  help: READINESS_HELP,
  evaluate: computeReadiness,
  render: renderReadiness,
  exitCode: (model) => (model.ready ? EXIT.ok : EXIT.controlFailed),
  reviews: true,
});
