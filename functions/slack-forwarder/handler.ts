import middy from '@middy/core';
import type { SNSEvent } from 'aws-lambda';
import { embeddedConfig } from '../../lib/config/embedded-config.ts';
import { forwardToSlack } from '../../lib/notify/slack-forwarder.ts';
import { makeSlackForwarderDeps } from '../../lib/wiring/make-slack-forwarder-deps.ts';

// Built once per cold start; a missing webhook secret or invalid config fails here, naming it.
const deps = makeSlackForwarderDeps(embeddedConfig());

/** SNS -> the owner's Slack channel. Throws on failure: Lambda retries twice, then the DLQ. */
export const handler = middy(async (event: SNSEvent) => {
  for (const record of event.Records) await forwardToSlack(record.Sns, deps);
});
