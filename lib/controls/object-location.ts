import * as z from 'zod';
import type { ObjectStorePort } from './ports.ts';

/** An S3 bucket name (the DNS-compatible rules S3 enforces for new buckets). */
export const bucketNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name such as acme-security-reports');

/**
 * A key prefix: no leading slash, no `..`, ends with `/` so `scans/trivy` cannot match
 * `scans/trivy-old/`. No `*` or `?`: the prefix also scopes the IAM grant, where they are wildcards.
 */
export const keyPrefixSchema = z
  .string()
  .min(1)
  .max(512)
  .refine((prefix) => !/[*?]/.test(prefix), 'expected a key prefix without wildcards (* or ?)')
  .regex(/^[A-Za-z0-9!_.'()/{}-]+\/$/, 'expected a key prefix ending in "/", such as scans/trivy/')
  .refine(
    (prefix) => !prefix.startsWith('/') && !prefix.split('/').includes('..'),
    'expected a relative key prefix',
  );

export function bucketOf(configured: string | undefined, objects: ObjectStorePort): string {
  return configured ?? objects.defaultBucket;
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
