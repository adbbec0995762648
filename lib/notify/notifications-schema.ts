import * as z from 'zod';

/** How owners are reached beyond email. */
export const notificationsSchema = z.strictObject({
  slack: z
    .strictObject({
      /** Secrets Manager secret holding the incoming-webhook URL(s); never the URL itself. */
      webhookSecretId: z.string().min(1),
    })
    .optional(),
});
