import { ControlCheckError, type EvidenceLog } from '../controls/outcome.ts';

/**
 * One AWS call a control makes, as its evidence records it. Every adapter that reads AWS for a
 * control (IAM, Secrets Manager, Backup, RDS, S3) records the same three outcomes the same way:
 * the response it used, "does not exist" when that is an answer, or the error that made the check
 * impossible (which the runner turns into an `error` verdict, never `pass`).
 */
export interface AwsCall {
  readonly evidence: EvidenceLog;
  /** What the evidence entry is called: `access keys of ci-deployer`. */
  readonly label: string;
  /** The service's IAM prefix: `iam`, `secretsmanager`, `backup`, `rds`, `s3`. */
  readonly service: string;
  /** The API operation: `ListAccessKeys`. */
  readonly operation: string;
  /** The request as recorded (never credentials or secret values). */
  readonly request: Readonly<Record<string, unknown>>;
  /** What the call does, the start of any error message: `listing access keys of IAM user ci-deployer`. */
  readonly doing: string;
  /**
   * The IAM action an access-denied error names.
   * @default `${service}:${operation}`
   */
  readonly action?: string;
}

export type AwsErrorKind = 'not-found' | 'access-denied' | 'other';

export interface ClassifiedAwsError {
  /** The SDK error's `name` (`AccessDeniedException`, `NoSuchBucket`, ...). */
  readonly name: string;
  readonly kind: AwsErrorKind;
  /** Why, for a person: `access denied (iam:ListAccessKeys)`, `the bucket does not exist`. */
  readonly reason: string;
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'Forbidden',
  'UnauthorizedOperation',
]);
/** Names that mean "no such resource" across the services we call (RDS faults end in NotFoundFault). */
const NOT_FOUND = /NotFound|^NoSuch/;
const NOT_FOUND_REASONS: Readonly<Record<string, string>> = {
  NoSuchBucket: 'the bucket does not exist',
  NoSuchKey: 'the object no longer exists',
};

/** The one AWS error classifier: access denied (naming the action), not found, or anything else. */
export function classifyAwsError(error: unknown, action: string): ClassifiedAwsError {
  const name = (error as { name?: unknown }).name;
  const errorName = typeof name === 'string' && name !== '' ? name : 'Error';
  if (ACCESS_DENIED.has(errorName)) {
    return { name: errorName, kind: 'access-denied', reason: `access denied (${action})` };
  }
  if (NOT_FOUND.test(errorName)) {
    return { name: errorName, kind: 'not-found', reason: NOT_FOUND_REASONS[errorName] ?? 'not found' };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { name: errorName, kind: 'other', reason: `${errorName}: ${message}`.trim() };
}

/** The `ControlCheckError` for a failed call: `<doing>: <reason>`, with the SDK error as cause. */
export function awsCallError(
  error: unknown,
  doing: string,
  action: string,
  notFoundReason?: string,
): ControlCheckError {
  const classified = classifyAwsError(error, action);
  const reason = classified.kind === 'not-found' && notFoundReason ? notFoundReason : classified.reason;
  return new ControlCheckError(`${doing}: ${reason}`, { cause: error });
}

/**
 * Sends the call and records it: the response (as `responseEvidence` shapes it) on success, the
 * error and its reason on failure, which then throws `ControlCheckError`.
 */
export async function recordAwsCall<T>(
  call: AwsCall,
  send: () => Promise<T>,
  responseEvidence: (result: T) => unknown,
  options: { readonly notFoundReason?: string } = {},
): Promise<T> {
  const outcome = await attempt(send);
  if (!outcome.ok) throw fail(call, outcome, options.notFoundReason);
  record(call, outcome.at, responseEvidence(outcome.value));
  return outcome.value;
}

/**
 * Like `recordAwsCall`, where "does not exist" is an answer rather than a failure (a deleted
 * secret, a removed IAM user): recorded as `{ error: <name> }` and returned as `undefined`.
 */
export async function recordAwsLookup<T>(
  call: AwsCall,
  send: () => Promise<T>,
  responseEvidence: (result: T) => unknown,
): Promise<T | undefined> {
  const outcome = await attempt(send);
  if (outcome.ok) {
    record(call, outcome.at, responseEvidence(outcome.value));
    return outcome.value;
  }
  const classified = classifyAwsError(outcome.error, actionOf(call));
  if (classified.kind !== 'not-found') throw fail(call, outcome);
  record(call, outcome.at, { error: classified.name });
  return undefined;
}

type Attempt<T> =
  | { readonly ok: true; readonly value: T; readonly at: string }
  | { readonly ok: false; readonly error: unknown; readonly at: string };

async function attempt<T>(send: () => Promise<T>): Promise<Attempt<T>> {
  // `at` is when the call was made, so the evidence orders calls as they happened.
  const at = new Date().toISOString();
  try {
    return { ok: true, value: await send(), at };
  } catch (error) {
    return { ok: false, error, at };
  }
}

function fail(
  call: AwsCall,
  failed: { readonly error: unknown; readonly at: string },
  notFoundReason?: string,
): ControlCheckError {
  const classified = classifyAwsError(failed.error, actionOf(call));
  const reason = classified.kind === 'not-found' && notFoundReason ? notFoundReason : classified.reason;
  record(call, failed.at, { error: classified.name, reason });
  return awsCallError(failed.error, call.doing, actionOf(call), notFoundReason);
}

function record(call: AwsCall, at: string, response: unknown): void {
  call.evidence.add({
    kind: 'api',
    label: call.label,
    service: call.service,
    operation: call.operation,
    request: call.request,
    response,
    at,
  });
}

function actionOf(call: AwsCall): string {
  return call.action ?? `${call.service}:${call.operation}`;
}
