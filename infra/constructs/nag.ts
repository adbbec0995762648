import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on a construct and its children, with the reason beside the
 * code that causes it. `id` is a rule (`AwsSolutions-L1`) or one finding (`AwsSolutions-IAM5[…]`).
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges the IAM5 finding for a wildcard resource such as `<bucket ARN>/evidence/*`. The
 * finding id is computed from the ARN the way cdk-nag flattens it (`<LogicalId.Arn>/evidence/*`),
 * so it follows renamed constructs instead of hard-coding logical ids.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resourceArn: string, reason: string): void {
  const flat = flattenReference(Stack.of(scope).resolve(resourceArn));
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${flat}]`, reason);
}

/** The IAM5 findings CDK's standard KMS grants raise (`GenerateDataKey*`, `ReEncrypt*`). */
export function acknowledgeKmsGrantWildcards(scope: IConstruct, keyDescription: string): void {
  for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
    acknowledge(
      scope,
      `AwsSolutions-IAM5[Action::${action}]`,
      `CDK's standard KMS grant on ${keyDescription}: the wildcard only spans variants of one operation ` +
        '(GenerateDataKey/WithoutPlaintext/Pair, ReEncryptFrom/To), and the resource is that single key.',
    );
  }
}

/** cdk-nag's `flattenCfnReference`: Fn::Join concatenated, Ref and Fn::GetAtt as `<…>`. */
function flattenReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  if (node !== null && typeof node === 'object') {
    const fn = node as Record<string, unknown>;
    if (Array.isArray(fn['Fn::Join'])) {
      const [delimiter, items] = fn['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (fn['Fn::Sub'] !== undefined) return flattenReference(fn['Fn::Sub']);
    if (Array.isArray(fn['Fn::GetAtt'])) {
      const [resource, attribute] = fn['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if (fn.Ref !== undefined) return `<${flattenReference(fn.Ref)}>`;
  }
  return JSON.stringify(node);
}
