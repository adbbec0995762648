import { renderTable } from '../../cli/table.ts';
import type { Config } from '../../config/schema.ts';
import { humanDuration, ruleLabel } from '../../risks/digest-message.ts';
import type { RegisterEvaluation } from '../../risks/evaluate-register.ts';
import { type DeliveredDigest, runRiskEvaluation } from '../../risks/run-risk-evaluation.ts';
import { type Logger, silentLogger } from '../../shared/logger.ts';
import type { RuntimeResources } from '../../shared/runtime-env.ts';
import type { AwsClients } from '../../wiring/aws-clients.ts';
import { makeRiskDeps } from '../../wiring/make-risk-deps.ts';

export interface RiskDemoInput {
  readonly config: Config;
  readonly asOf: Date;
  readonly clients: Pick<AwsClients, 'dynamodb' | 'sns'>;
  readonly resources: Pick<RuntimeResources, 'resultsTable' | 'notificationsTopicArn'>;
  readonly log?: Logger;
}

export interface RiskDemoFindingRow {
  readonly subject: string;
  readonly owner: string;
  readonly finding: string;
  readonly category: string;
  readonly due: string;
  readonly message: string;
}

export interface RiskDemoResult {
  readonly evaluation: RegisterEvaluation;
  readonly findings: readonly RiskDemoFindingRow[];
  /** Digests SNS accepted in the first evaluation. */
  readonly digests: readonly DeliveredDigest[];
  /** Digests sent by a second evaluation moments later: 0 when the ledger dedupes. */
  readonly repeatDigests: number;
  /** Ready to print: the findings table, the digests table and the repeat line. */
  readonly text: string;
}

/**
 * `npm start`'s risk step: evaluates the register as of `asOf` (with the latest control verdicts
 * already in the results table), stores it, sends the digests through SNS, then evaluates again a
 * minute later to show that nothing is sent twice.
 */
export async function runRiskDemo(input: RiskDemoInput): Promise<RiskDemoResult> {
  const deps = makeRiskDeps({ ...input, log: input.log ?? silentLogger });
  const first = await runRiskEvaluation(input.asOf, deps);
  const again = await runRiskEvaluation(new Date(input.asOf.getTime() + 60_000), deps);
  const { evaluation } = first;
  const findings = evaluation.findings.map((finding) => ({
    subject: `${finding.subjectId} ${finding.subjectTitle}`,
    owner: finding.owner,
    finding: ruleLabel(finding) + (finding.controlId ? ` (${finding.controlId} ${finding.periodKey})` : ''),
    category: finding.category,
    due: finding.dueDate ? `${finding.dueDate} (${finding.daysOverdue} d ago)` : '-',
    message: finding.message,
  }));
  const counts = { violation: 0, overdue: 0, flagged: 0 };
  for (const finding of evaluation.findings) counts[finding.category] += 1;
  const text = [
    `Risk register as of ${evaluation.date} (${evaluation.timeZone}): ${evaluation.findings.length} findings ` +
      `(${counts.violation} register violations, ${counts.overdue} overdue, ${counts.flagged} flagged by failing controls).`,
    renderTable(
      ['SUBJECT', 'OWNER', 'FINDING', 'DUE'],
      findings.map((row) => [row.subject, row.owner, row.finding, row.due]),
      50,
    ),
    '',
    `Digests delivered through SNS (one per owner; escalations after ${evaluation.settings.escalateAfter} reminders):`,
    first.digests.length === 0
      ? '  (none due)'
      : renderTable(
          ['RECIPIENT', 'KIND', 'ITEMS', 'SNS MESSAGE ID'],
          first.digests.map((d) => [d.recipient, d.kind, String(d.itemKeys.length), d.messageId]),
        ),
    `A second evaluation a minute later sent ${again.digests.length} digest(s): reminders repeat every ` +
      `${humanDuration(evaluation.settings.reminderInterval)}, not every run.`,
  ].join('\n');
  return { evaluation, findings, digests: first.digests, repeatDigests: again.digests.length, text };
}
