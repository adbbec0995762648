import middy from '@middy/core';
import { embeddedConfig } from '../../lib/config/embedded-config.ts';
import { evaluationInstant } from '../../lib/risks/evaluation-event.ts';
import { DigestDeliveryError, runRiskEvaluation } from '../../lib/risks/run-risk-evaluation.ts';
import { jsonLogger } from '../../lib/shared/logger.ts';
import { loadRuntimeResources } from '../../lib/shared/runtime-env.ts';
import { makeAwsClients } from '../../lib/wiring/aws-clients.ts';
import { makeRiskDeps } from '../../lib/wiring/make-risk-deps.ts';

// Built once per cold start; a missing variable or invalid config fails here, naming it.
const deps = makeRiskDeps({
  config: embeddedConfig(),
  resources: loadRuntimeResources(process.env, ['resultsTable', 'notificationsTopicArn']),
  clients: makeAwsClients(),
  log: jsonLogger(),
});

/** Daily schedule: evaluate the register, store state and findings, send each owner's digest. */
export const handler = middy(async (event: unknown) => {
  const report = await runRiskEvaluation(evaluationInstant(event), deps);
  // Claims of the failed digests were released: throwing makes the invocation retry them.
  if (report.failures.length > 0) throw new DigestDeliveryError(report.failures);
  return {
    date: report.evaluation.date,
    findings: report.evaluation.findings.length,
    digests: report.digests.length,
  };
});
