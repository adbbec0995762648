import { embeddedConfig } from '../config/embedded-config.ts';
import type { Config } from '../config/schema.ts';
import type { RiskEvaluationDeps } from '../risks/run-risk-evaluation.ts';
import { loadRuntimeResources } from '../shared/runtime-env.ts';
import type { Env } from './clients/client-config.ts';
import { makeDynamoDbClient } from './clients/dynamodb-client.ts';
import { lazyClient } from './clients/lazy-client.ts';
import { makeSnsClient } from './clients/sns-client.ts';
import type { LambdaDepsBase } from './lambda-deps.ts';
import { makeLambdaLogger } from './lambda-logger.ts';
import { makeRiskDeps } from './make-risk-deps.ts';

export interface RiskEvaluatorDeps extends LambdaDepsBase {
  readonly risk: RiskEvaluationDeps;
}

/** functions/risk-evaluator at cold start: the results table and the notifications topic. */
export function makeRiskEvaluatorDeps(env: Env, config: Config = embeddedConfig()): RiskEvaluatorDeps {
  const log = makeLambdaLogger();
  const risk = makeRiskDeps({
    config,
    resources: loadRuntimeResources(env, ['resultsTable', 'notificationsTopicArn']),
    clients: {
      dynamodb: lazyClient(() => makeDynamoDbClient(env)),
      sns: lazyClient(() => makeSnsClient(env)),
    },
    log: log.port,
  });
  return { config, log, risk };
}
