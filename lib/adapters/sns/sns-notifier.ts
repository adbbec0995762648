import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from '../../notify/notification.ts';

/** SNS allows 100 characters of printable ASCII in an email subject. */
export function toSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

export function makeSnsNotifier(sns: SNSClient, topicArn: string): Notifier {
  return {
    async publish(notification) {
      const result = await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: toSubject(notification.subject),
          Message: notification.text,
          MessageAttributes: {
            owner: { DataType: 'String', StringValue: notification.owner },
            control: { DataType: 'String', StringValue: notification.control },
            kind: { DataType: 'String', StringValue: notification.kind },
            severity: { DataType: 'String', StringValue: notification.severity },
            payload: { DataType: 'String', StringValue: JSON.stringify(notification.payload) },
          },
        }),
      );
      if (!result.MessageId) throw new Error('SNS accepted the publish but returned no message id');
      return result.MessageId;
    },
  };
}
