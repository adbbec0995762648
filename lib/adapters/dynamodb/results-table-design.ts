/**
 * The one DynamoDB table's key design, shared by the CDK stack, the local provisioner and the
 * stores so they cannot drift. Every read is a Query on the table or on GSI1; nothing scans.
 *
 * | item                 | pk                  | sk                                      | gsi1pk                 | gsi1sk          |
 * |----------------------|---------------------|-----------------------------------------|------------------------|-----------------|
 * | verdict (1 / period) | CONTROL#<id>        | VERDICT#<cadence>#<periodKey>           | PERIOD#<cadence>#<key> | CONTROL#<id>    |
 * | attempt (history)    | CONTROL#<id>        | ATTEMPT#<cadence>#<periodKey>#<runId>   | -                      | -               |
 * | evidence chain head  | CONTROL#<id>        | CHAIN                                   | -                      | -               |
 * | risk state (1 / day) | RISK#<id> or REMEDIATION#<id> | STATE#<date>                  | EVAL#<date>            | STATE#<pk>      |
 * | finding (1 / day)    | RISK#<id> or REMEDIATION#<id> | FINDING#<date>#<findingKey>   | EVAL#<date>            | FINDING#<key>   |
 * | evaluation summary   | RISKREGISTER        | EVAL#<date>                             | -                      | -               |
 * | reminder ledger      | REMINDER#<owner>    | ITEM#<itemKey>                          | -                      | -               |
 * | digest sent (history)| REMINDER#<owner>    | SENT#<sentAt>#<digestId>                | -                      | -               |
 * | outbox notice        | OUTBOX#<stream>     | NOTICE#<noticeId> (starts with run id)  | -                      | -               |
 */
export const RESULTS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  periodIndex: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** Attempt items expire from the hot table only when the deployer opts in; verdicts never do. */
  ttlAttribute: 'expiresAt',
} as const;

export const keys = {
  control: (controlId: string) => `CONTROL#${controlId}`,
  verdict: (cadence: string, periodKey: string) => `VERDICT#${cadence}#${periodKey}`,
  attemptPrefix: (cadence: string, periodKey: string) => `ATTEMPT#${cadence}#${periodKey}#`,
  attempt: (cadence: string, periodKey: string, runId: string) => `ATTEMPT#${cadence}#${periodKey}#${runId}`,
  period: (cadence: string, periodKey: string) => `PERIOD#${cadence}#${periodKey}`,
  chainHead: () => 'CHAIN',
  riskSubject: (kind: 'risk' | 'remediation' | 'asset' | 'readiness' | 'control' | 'document', id: string) =>
    `${{ risk: 'RISK', asset: 'ASSET', remediation: 'REMEDIATION', readiness: 'READINESS', control: 'REVIEW', document: 'DOCUMENT' }[kind]}#${id}`,
  riskState: (date: string) => `STATE#${date}`,
  riskFinding: (date: string, findingKey: string) => `FINDING#${date}#${findingKey}`,
  riskEvaluationDay: (date: string) => `EVAL#${date}`,
  riskRegister: () => 'RISKREGISTER',
  reminderRecipient: (owner: string) => `REMINDER#${owner}`,
  reminderItem: (itemKey: string) => `ITEM#${itemKey}`,
  reminderSent: (sentAt: string, digestId: string) => `SENT#${sentAt}#${digestId}`,
  outbox: (stream: string) => `OUTBOX#${stream}`,
  outboxNotice: (noticeId: string) => `NOTICE#${noticeId}`,
} as const;
