import { makeDynamoOutbox } from '../adapters/dynamodb/dynamodb-outbox.ts';
import { makeDynamoReminderLedger } from '../adapters/dynamodb/dynamodb-reminders.ts';
import { makeDynamoResultsStore } from '../adapters/dynamodb/dynamodb-results.ts';
import { makeDynamoRiskStore } from '../adapters/dynamodb/dynamodb-risks.ts';
import { makeSnsNotifier } from '../adapters/sns/sns-notifier.ts';
import type { Config } from '../config/schema.ts';
import { latestVerdictsFrom } from '../risks/latest-verdicts.ts';
import { readinessVerdictsFrom } from '../risks/readiness-findings.ts';
import { reviewVerdictsFrom } from '../risks/review-findings.ts';
import type { RiskEvaluationDeps } from '../risks/run-risk-evaluation.ts';
import type { Logger } from '../shared/logger.ts';
import type { RuntimeResources } from '../shared/runtime-env.ts';
import type { AwsClients } from './aws-clients.ts';

export interface RiskDepsInput {
  readonly config: Config;
  readonly resources: Pick<RuntimeResources, 'resultsTable' | 'notificationsTopicArn'>;
  readonly clients: Pick<AwsClients, 'dynamodb' | 'sns'>;
  readonly log: Logger;
}

/** Wires the risk evaluation to its adapters; shared by the evaluator Lambda and the demo. */
export function makeRiskDeps(input: RiskDepsInput): RiskEvaluationDeps {
  const { clients, resources } = input;
  const results = makeDynamoResultsStore(clients.dynamodb, resources.resultsTable);
  return {
    config: input.config,
    store: makeDynamoRiskStore(clients.dynamodb, resources.resultsTable),
    ledger: makeDynamoReminderLedger(clients.dynamodb, resources.resultsTable),
    notifier: makeSnsNotifier(clients.sns, resources.notificationsTopicArn),
    outbox: makeDynamoOutbox(clients.dynamodb, resources.resultsTable),
    latestVerdicts: latestVerdictsFrom(results),
    readinessVerdicts: readinessVerdictsFrom(results),
    // Owed review sign-offs (review: required controls, documents) reach their owners' digests.
    reviewVerdicts: reviewVerdictsFrom(results),
    log: input.log,
  };
}
