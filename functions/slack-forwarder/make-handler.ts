import middy from '@middy/core';
import type { SNSEvent } from 'aws-lambda';
import * as z from 'zod';
import { forwardToSlack, MalformedNotificationError } from '../../lib/notify/slack-forwarder.ts';
import { lambdaContext, logErrors, validateEvent } from '../../lib/wiring/lambda-middleware.ts';
import type { SlackForwarderLambdaDeps } from '../../lib/wiring/make-slack-forwarder-deps.ts';

/** The SNS event Lambda delivers, checked as far as the forwarder reads it (the rest is kept). */
const snsEventSchema = z.looseObject({
  Records: z
    .array(
      z.looseObject({
        Sns: z.looseObject({
          MessageId: z.string().optional(),
          Subject: z.string().nullish(),
          Message: z.string(),
          MessageAttributes: z
            .record(z.string(), z.looseObject({ Type: z.string().optional(), Value: z.string().optional() }))
            .optional(),
        }),
      }),
    )
    .min(1),
});

/** SNS -> the owner's Slack channel. Throws on failure: Lambda retries twice, then the DLQ. */
export function makeHandler(deps: SlackForwarderLambdaDeps) {
  return middy(async (event: SNSEvent) => {
    for (const record of event.Records) await forwardToSlack(record.Sns, deps.forward);
  })
    .use(lambdaContext(deps.log))
    .use(logErrors(deps.log))
    .use(
      validateEvent(snsEventSchema, (message) => new MalformedNotificationError(message), 'not an SNS event'),
    );
}
