import { type IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { ControlCheckError } from '../../controls/outcome.ts';
import type { AccessKeyDescription, AccessKeysPort } from '../../controls/ports.ts';

/** IAM access key ages (`ListAccessKeys`, every page). Access key ids are identifiers, not secrets. */
export function makeIamAccessKeys(client: IAMClient): AccessKeysPort {
  return {
    async listAccessKeys(userName, evidence) {
      const at = new Date().toISOString();
      const keys: AccessKeyDescription[] = [];
      let marker: string | undefined;
      try {
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
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'NoSuchEntityException' || name === 'NoSuchEntity') {
          evidence.add({
            kind: 'api',
            label: `access keys of ${userName}`,
            service: 'iam',
            operation: 'ListAccessKeys',
            request: { UserName: userName },
            response: { error: 'NoSuchEntity' },
            at,
          });
          return undefined;
        }
        const why =
          name === 'AccessDenied' || name === 'AccessDeniedException'
            ? 'access denied (iam:ListAccessKeys)'
            : `${name}: ${(error as Error).message}`;
        evidence.add({
          kind: 'api',
          label: `access keys of ${userName}`,
          service: 'iam',
          operation: 'ListAccessKeys',
          request: { UserName: userName },
          response: { error: name ?? 'Error', reason: why },
          at,
        });
        throw new ControlCheckError(`listing access keys of IAM user ${userName}: ${why}`, { cause: error });
      }
      evidence.add({
        kind: 'api',
        label: `access keys of ${userName}`,
        service: 'iam',
        operation: 'ListAccessKeys',
        request: { UserName: userName },
        response: {
          AccessKeyMetadata: keys.map((key) => ({
            AccessKeyId: key.accessKeyId,
            Status: key.status,
            CreateDate: key.createDate.toISOString(),
          })),
        },
        at,
      });
      return keys;
    },
  };
}
