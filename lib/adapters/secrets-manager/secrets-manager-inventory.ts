import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretsInventoryPort } from '../../controls/ports.ts';
import { recordAwsLookup } from '../aws-call-evidence.ts';

/**
 * Secrets Manager metadata for rotation checks: `DescribeSecret` only, never `GetSecretValue`, so
 * the control tests' role needs no access to secret values. The response kept as evidence holds
 * names, dates and the rotation settings; it contains no secret material.
 */
export function makeSecretsManagerInventory(client: SecretsManagerClient): SecretsInventoryPort {
  return {
    async describeSecret(secretId, evidence) {
      const response = await recordAwsLookup(
        {
          evidence,
          label: `describe secret ${secretId}`,
          service: 'secretsmanager',
          operation: 'DescribeSecret',
          request: { SecretId: secretId },
          doing: `describing Secrets Manager secret ${secretId}`,
        },
        () => client.send(new DescribeSecretCommand({ SecretId: secretId })),
        (found) => ({
          Name: found.Name,
          ARN: found.ARN,
          RotationEnabled: found.RotationEnabled ?? false,
          RotationRules: found.RotationRules,
          LastRotatedDate: found.LastRotatedDate?.toISOString(),
          LastChangedDate: found.LastChangedDate?.toISOString(),
          NextRotationDate: found.NextRotationDate?.toISOString(),
          CreatedDate: found.CreatedDate?.toISOString(),
          DeletedDate: found.DeletedDate?.toISOString(),
        }),
      );
      if (!response) return undefined;
      return {
        name: response.Name ?? secretId,
        arn: response.ARN ?? '',
        rotationEnabled: response.RotationEnabled === true,
        ...(response.LastRotatedDate ? { lastRotatedDate: response.LastRotatedDate } : {}),
        ...(response.LastChangedDate ? { lastChangedDate: response.LastChangedDate } : {}),
        ...(response.CreatedDate ? { createdDate: response.CreatedDate } : {}),
        ...(response.DeletedDate ? { deletedDate: response.DeletedDate } : {}),
      };
    },
  };
}
