import { BatchWriteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { RegisterEvaluation } from '../../risks/evaluate-register.ts';
import type { EvaluationSummary, RiskStore, StoredFinding, StoredSubjectState } from '../../risks/ports.ts';
import { queryAll, stripTableKeys } from './dynamodb-query.ts';
import { keys, RESULTS_TABLE } from './results-table-design.ts';

const { partitionKey, sortKey, periodIndex } = RESULTS_TABLE;

type Item = Record<string, unknown>;

/** Removes `undefined` (DynamoDB rejects it) whatever marshalling options the client has. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** BatchWriteItem in chunks of 25, resubmitting unprocessed items with backoff. */
async function batchWrite(
  client: DynamoDBDocumentClient,
  tableName: string,
  requests: { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[],
): Promise<void> {
  for (let start = 0; start < requests.length; start += 25) {
    let pending = requests.slice(start, start + 25);
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > 8) throw new Error(`DynamoDB left ${pending.length} writes unprocessed after retries`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
      const result = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (result.UnprocessedItems?.[tableName] ?? []) as typeof pending;
    }
  }
}

function summarize(evaluation: RegisterEvaluation, runId: string): EvaluationSummary {
  const findingsByRule: Record<string, number> = {};
  for (const finding of evaluation.findings)
    findingsByRule[finding.rule] = (findingsByRule[finding.rule] ?? 0) + 1;
  return {
    date: evaluation.date,
    asOf: evaluation.asOf,
    runId,
    risks: evaluation.risks.length,
    remediations: evaluation.remediations.length,
    findings: evaluation.findings.length,
    findingsByRule,
  };
}

export function makeDynamoRiskStore(client: DynamoDBDocumentClient, tableName: string): RiskStore {
  const bySubject = async (pk: string, prefix: string, limit?: number) =>
    queryAll(
      client,
      {
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey },
        ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
        ScanIndexForward: false,
      },
      limit,
    );
  const byDay = (date: string) =>
    queryAll(client, {
      TableName: tableName,
      IndexName: periodIndex.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': periodIndex.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.riskEvaluationDay(date) },
    });

  return {
    async saveEvaluation(evaluation, runId) {
      const { date, asOf } = evaluation;
      const day = keys.riskEvaluationDay(date);
      const items: Item[] = [];
      for (const state of evaluation.risks) {
        const pk = keys.riskSubject('risk', state.risk.id);
        const record: StoredSubjectState = {
          subjectKind: 'risk',
          subjectId: state.risk.id,
          date,
          asOf,
          runId,
          owner: state.risk.owner,
          status: state.risk.status,
          score: state.score,
          likelihood: state.risk.likelihood,
          impact: state.risk.impact,
          nextReviewDue: state.nextReviewDue,
          findingKeys: state.findings.map((f) => f.key),
          snapshot: plain(state.risk),
        };
        items.push({
          ...record,
          [partitionKey]: pk,
          [sortKey]: keys.riskState(date),
          itemType: 'risk-state',
        });
      }
      for (const state of evaluation.remediations) {
        const pk = keys.riskSubject('remediation', state.item.id);
        const record: StoredSubjectState = {
          subjectKind: 'remediation',
          subjectId: state.item.id,
          date,
          asOf,
          runId,
          owner: state.item.owner,
          status: state.item.status,
          findingKeys: state.findings.map((f) => f.key),
          snapshot: plain(state.item),
        };
        items.push({
          ...record,
          [partitionKey]: pk,
          [sortKey]: keys.riskState(date),
          itemType: 'risk-state',
        });
      }
      for (const item of items) {
        item[periodIndex.partitionKey] = day;
        item[periodIndex.sortKey] = `STATE#${String(item[partitionKey])}`;
      }
      const findingSortKeys = new Set<string>();
      for (const finding of evaluation.findings) {
        const record: StoredFinding = { ...finding, date, asOf, runId };
        const sk = keys.riskFinding(date, finding.key);
        findingSortKeys.add(sk);
        items.push({
          ...plain(record),
          [partitionKey]: keys.riskSubject(finding.subjectKind, finding.subjectId),
          [sortKey]: sk,
          [periodIndex.partitionKey]: day,
          [periodIndex.sortKey]: `FINDING#${finding.key}`,
          itemType: 'risk-finding',
        });
      }
      // A same-day re-run after the register changed: that day's findings that no longer hold go.
      const stale = (await byDay(date)).filter(
        (item) => item.itemType === 'risk-finding' && !findingSortKeys.has(String(item[sortKey])),
      );
      await batchWrite(client, tableName, [
        ...stale.map((item) => ({
          DeleteRequest: { Key: { [partitionKey]: item[partitionKey], [sortKey]: item[sortKey] } },
        })),
        ...items.map((item) => ({ PutRequest: { Item: item } })),
      ]);
      const summary = summarize(evaluation, runId);
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...summary,
            [partitionKey]: keys.riskRegister(),
            [sortKey]: keys.riskEvaluationDay(date),
            itemType: 'risk-evaluation',
          },
        }),
      );
      return summary;
    },

    async statesOf(subjectKind, id, options = {}) {
      const items = await bySubject(keys.riskSubject(subjectKind, id), 'STATE#', options.limit);
      return items.map((item) => stripTableKeys<StoredSubjectState>(item));
    },

    async findingsOf(subjectKind, id, options = {}) {
      const items = await bySubject(keys.riskSubject(subjectKind, id), 'FINDING#', options.limit);
      return items.map((item) => stripTableKeys<StoredFinding>(item));
    },

    async evaluationOn(date) {
      const items = await byDay(date);
      return {
        states: items
          .filter((i) => i.itemType === 'risk-state')
          .map((i) => stripTableKeys<StoredSubjectState>(i)),
        findings: items
          .filter((i) => i.itemType === 'risk-finding')
          .map((i) => stripTableKeys<StoredFinding>(i)),
      };
    },

    async evaluations(options = {}) {
      const items = await bySubject(keys.riskRegister(), 'EVAL#', options.limit);
      return items.map((item) => stripTableKeys<EvaluationSummary>(item));
    },
  };
}
