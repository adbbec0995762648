import { type IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import type { AccessKeyDescription, AccessKeysPort } from '../../controls/ports.ts';
import { recordAwsLookup } from '../aws-call-evidence.ts';

/** IAM access key ages (`ListAccessKeys`, every page). Access key ids are identifiers, not secrets. */
export function makeIamAccessKeys(client: IAMClient): AccessKeysPort {
  return {
    listAccessKeys: (userName, evidence) =>
      recordAwsLookup(
        {
          evidence,
          label: `access keys of ${userName}`,
          service: 'iam',
          operation: 'ListAccessKeys',
          request: { UserName: userName },
          doing: `listing access keys of IAM user ${userName}`,
        },
        async () => {
          const keys: AccessKeyDescription[] = [];
          let marker: string | undefined;
          do {
            const page = await client.send(new ListAccessKeysCommand({ UserName: userName, Marker: marker }));
            for (const key of page.AccessKeyMetadata ?? []) {
              if (!key.AccessKeyId || !key.CreateDate) continue;
              keys.push({
                accessKeyId: key.AccessKeyId,
                status: key.Status ?? 'Unknown',
                createDate: key.CreateDate,
              });
            }
            marker = page.IsTruncated ? page.Marker : undefined;
          } while (marker);
          return keys;
        },
        (keys) => ({
          AccessKeyMetadata: keys.map((key) => ({
            AccessKeyId: key.accessKeyId,
            Status: key.status,
            CreateDate: key.createDate.toISOString(),
          })),
        }),
      ),
  };
}
