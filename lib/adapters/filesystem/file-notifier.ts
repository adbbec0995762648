import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Notification, Notifier } from '../../notify/notification.ts';

/**
 * The local stand-in for the SNS topic: each notification is appended as one JSON line
 * (`{"messageId", "publishedAt", ...notification}`) to `path`, the outbox a user reads with
 * `tail`/`jq`, so owners' messages from `run --local` are kept rather than lost.
 */
export function makeFileNotifier(path: string, clock: () => Date = () => new Date()): Notifier {
  let ready: Promise<unknown> | undefined;
  return {
    async publish(notification: Notification) {
      ready ??= mkdir(dirname(path), { recursive: true });
      await ready;
      const messageId = randomUUID();
      await appendFile(
        path,
        `${JSON.stringify({ messageId, publishedAt: clock().toISOString(), ...notification })}\n`,
        { mode: 0o600 },
      );
      return messageId;
    },
  };
}
