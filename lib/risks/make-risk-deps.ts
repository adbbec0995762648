import type { AwsClients } from '../aws/clients.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { makeSnsNotifier } from '../notify/sns-notifier.ts';
import type { RuntimeResources } from '../runtime-env.ts';
import { makeDynamoReminderLedger } from '../stores/dynamodb-reminders.ts';
import { makeDynamoResultsStore } from '../stores/dynamodb-results.ts';
import { makeDynamoRiskStore } from '../stores/dynamodb-risks.ts';
import { latestVerdictsFrom } from './latest-verdicts.ts';
import type { RiskEvaluationDeps } from './run-risk-evaluation.ts';

export interface RiskDepsInput {
  readonly config: Config;
  readonly resources: Pick<RuntimeResources, 'resultsTable' | 'notificationsTopicArn'>;
  readonly clients: Pick<AwsClients, 'dynamodb' | 'sns'>;
  readonly log: Logger;
}

/** Wires the risk evaluation to its adapters; shared by the evaluator Lambda and the demo. */
export function makeRiskDeps(input: RiskDepsInput): RiskEvaluationDeps {
  const { clients, resources } = input;
  return {
    config: input.config,
    store: makeDynamoRiskStore(clients.dynamodb, resources.resultsTable),
    ledger: makeDynamoReminderLedger(clients.dynamodb, resources.resultsTable),
    notifier: makeSnsNotifier(clients.sns, resources.notificationsTopicArn),
    latestVerdicts: latestVerdictsFrom(makeDynamoResultsStore(clients.dynamodb, resources.resultsTable)),
    log: input.log,
  };
}
