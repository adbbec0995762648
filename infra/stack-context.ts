import type { Node } from 'constructs';
import type { NetworkPlacement } from './soc2-evidence-stack.ts';

/** Context keys (`cdk synth -c key=value`, or `context` in cdk.json) the app reads. */
export const CONTEXT_KEYS = {
  config: 'config',
  stackName: 'stackName',
  vpcId: 'vpcId',
  subnetIds: 'subnetIds',
  securityGroupIds: 'securityGroupIds',
  auditorRequiresMfa: 'auditorRequiresMfa',
  auditorPrincipalArns: 'auditorPrincipalArns',
  alarmEmails: 'alarmEmails',
  reserveConcurrency: 'reserveConcurrency',
} as const;

/** Deployment choices that are not part of the product config (they differ per account). */
export interface StackContext {
  readonly configPath: string;
  readonly stackName: string;
  readonly network?: NetworkPlacement;
  readonly auditorRequiresMfa?: boolean;
  readonly auditorPrincipalArns?: readonly string[];
  readonly alarmEmails?: readonly string[];
  readonly reserveConcurrency?: boolean;
}

export class StackContextError extends Error {
  override name = 'StackContextError';
}

/** Reads and checks the context; a bad value fails synth naming the key. */
export function readStackContext(node: Pick<Node, 'tryGetContext'>): StackContext {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new StackContextError(`context ${key}: expected a string`);
    return value;
  };
  const list = (key: string): string[] | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
    if (!items || items.some((item) => typeof item !== 'string')) {
      throw new StackContextError(`context ${key}: expected a comma-separated list or an array of strings`);
    }
    return (items as string[]).map((item) => item.trim()).filter((item) => item !== '');
  };
  const flag = (key: string): boolean | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new StackContextError(`context ${key}: expected true or false`);
  };

  const vpcId = text(CONTEXT_KEYS.vpcId);
  const subnetIds = list(CONTEXT_KEYS.subnetIds);
  const securityGroupIds = list(CONTEXT_KEYS.securityGroupIds);
  if (vpcId && !/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/.test(vpcId))
    throw new StackContextError(`context vpcId: expected vpc-…, got "${vpcId}"`);
  if (!vpcId && (subnetIds || securityGroupIds)) {
    throw new StackContextError('context subnetIds/securityGroupIds: set vpcId as well');
  }
  if (vpcId && (!subnetIds || subnetIds.length === 0)) {
    throw new StackContextError('context subnetIds: expected at least one private subnet id with vpcId');
  }
  for (const id of subnetIds ?? []) {
    if (!/^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id))
      throw new StackContextError(`context subnetIds: "${id}" is not a subnet id`);
  }
  for (const id of securityGroupIds ?? []) {
    if (!/^sg-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id))
      throw new StackContextError(`context securityGroupIds: "${id}" is not a security group id`);
  }

  const auditorRequiresMfa = flag(CONTEXT_KEYS.auditorRequiresMfa);
  const auditorPrincipalArns = list(CONTEXT_KEYS.auditorPrincipalArns);
  const alarmEmails = list(CONTEXT_KEYS.alarmEmails);
  const reserveConcurrency = flag(CONTEXT_KEYS.reserveConcurrency);
  return {
    configPath: text(CONTEXT_KEYS.config) ?? 'soc2-evidence.yaml',
    stackName: text(CONTEXT_KEYS.stackName) ?? 'Soc2Evidence',
    ...(vpcId && subnetIds
      ? { network: { vpcId, subnetIds, ...(securityGroupIds ? { securityGroupIds } : {}) } }
      : {}),
    ...(auditorRequiresMfa !== undefined ? { auditorRequiresMfa } : {}),
    ...(auditorPrincipalArns ? { auditorPrincipalArns } : {}),
    ...(alarmEmails ? { alarmEmails } : {}),
    ...(reserveConcurrency !== undefined ? { reserveConcurrency } : {}),
  };
}
