import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * A Secrets Manager secret's ARN from its name or its full ARN. A name matches any version
 * suffix (`<name>-??????`), which Secrets Manager appends to every secret's ARN.
 */
export function secretArn(scope: IConstruct, secretId: string): string {
  if (secretId.startsWith('arn:')) return secretId;
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${secretId}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}
