import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ControlCheckError } from '../../controls/outcome.ts';
import type { SecretsInventoryPort } from '../../controls/ports.ts';

/**
 * Secrets Manager metadata for rotation checks: `DescribeSecret` only, never `GetSecretValue`, so
 * the control tests' role needs no access to secret values. The response kept as evidence holds
 * names, dates and the rotation settings; it contains no secret material.
 */
export function makeSecretsManagerInventory(client: SecretsManagerClient): SecretsInventoryPort {
  return {
    async describeSecret(secretId, evidence) {
      const at = new Date().toISOString();
      try {
        const response = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
        const description = {
          name: response.Name ?? secretId,
          arn: response.ARN ?? '',
          rotationEnabled: response.RotationEnabled === true,
          ...(response.LastRotatedDate ? { lastRotatedDate: response.LastRotatedDate } : {}),
          ...(response.LastChangedDate ? { lastChangedDate: response.LastChangedDate } : {}),
          ...(response.CreatedDate ? { createdDate: response.CreatedDate } : {}),
          ...(response.DeletedDate ? { deletedDate: response.DeletedDate } : {}),
        };
        evidence.add({
          kind: 'api',
          label: `describe secret ${secretId}`,
          service: 'secretsmanager',
          operation: 'DescribeSecret',
          request: { SecretId: secretId },
          response: {
            Name: response.Name,
            ARN: response.ARN,
            RotationEnabled: response.RotationEnabled ?? false,
            RotationRules: response.RotationRules,
            LastRotatedDate: response.LastRotatedDate?.toISOString(),
            LastChangedDate: response.LastChangedDate?.toISOString(),
            NextRotationDate: response.NextRotationDate?.toISOString(),
            CreatedDate: response.CreatedDate?.toISOString(),
            DeletedDate: response.DeletedDate?.toISOString(),
          },
          at,
        });
        return description;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ResourceNotFoundException') {
          evidence.add({
            kind: 'api',
            label: `describe secret ${secretId}`,
            service: 'secretsmanager',
            operation: 'DescribeSecret',
            request: { SecretId: secretId },
            response: { error: 'ResourceNotFoundException' },
            at,
          });
          return undefined;
        }
        const why =
          name === 'AccessDeniedException'
            ? 'access denied (secretsmanager:DescribeSecret)'
            : `${name}: ${(error as Error).message}`;
        evidence.add({
          kind: 'api',
          label: `describe secret ${secretId}`,
          service: 'secretsmanager',
          operation: 'DescribeSecret',
          request: { SecretId: secretId },
          response: { error: name ?? 'Error', reason: why },
          at,
        });
        throw new ControlCheckError(`describing Secrets Manager secret ${secretId}: ${why}`, {
          cause: error,
        });
      }
    },
  };
}
