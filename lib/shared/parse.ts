import type * as z from 'zod';

/** `controls[2].cadence` from zod's path array. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => {
    if (typeof part === 'number') return `${text}[${part}]`;
    return text === '' ? String(part) : `${text}.${String(part)}`;
  }, '');
}

/** One zod issue as `path: what is wrong`, worded for the person who wrote the input. */
export function formatIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path) || '(root)';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `${where}: expected one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_union': {
      // A discriminated union names its valid discriminators (the control test types).
      const options = (issue as { options?: unknown }).options;
      if ('discriminator' in issue && issue.discriminator && Array.isArray(options) && options.length > 0) {
        return `${where}: expected one of ${options.map(String).join(', ')}`;
      }
      return `${where}: ${issue.message}`;
    }
    case 'invalid_type': {
      // zod says "Invalid input: expected string, received undefined"; say what is wrong instead.
      if (/received undefined$/.test(issue.message)) return `${where}: missing; expected ${issue.expected}`;
      return `${where}: ${issue.message.replace(/^Invalid input: /, '')}`;
    }
    default:
      return `${where}: ${issue.message}`;
  }
}

/**
 * Parses `value` with `schema`, or throws the caller's error type with `what` and the issues (at
 * most `maxIssues`) in one line: `malformed job: cadence: expected one of ...`.
 */
export function parseOrThrow<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  makeError: (message: string) => Error,
  what: string,
  maxIssues = Number.POSITIVE_INFINITY,
): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw makeError(`${what}: ${parsed.error.issues.slice(0, maxIssues).map(formatIssue).join('; ')}`);
}
