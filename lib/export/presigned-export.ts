/** SigV4 presigned URLs are valid for at most 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** An uploaded export and its time-limited download link. */
export interface PresignedExport {
  readonly key: string;
  readonly url: string;
  /** When the link stops working: the earlier of the requested lifetime and the signing credentials' expiry. */
  readonly expiresAt: string;
  readonly validSeconds: number;
  /** The lifetime asked for (`--expires-in`, capped at 7 days). */
  readonly requestedSeconds: number;
  /** `credentials` when the session that signed the link expires before the requested lifetime. */
  readonly limitedBy: 'expires-in' | 'credentials';
  /** The signing credentials' expiry, when they have one (session credentials do; long-term keys do not). */
  readonly credentialsExpireAt?: string;
}

export class PresignValidityError extends Error {
  override name = 'PresignValidityError';
}

/** A link shorter than this is not worth handing out. */
const MIN_VALID_SECONDS = 60;

/**
 * How long a presigned link really works: a SigV4 URL signed with session credentials fails once
 * those expire, whatever its `X-Amz-Expires` says, so the validity is the earlier of the two.
 */
export function presignValidity(input: {
  readonly now: Date;
  readonly requestedSeconds: number;
  readonly credentialsExpireAt?: Date;
}): Pick<
  PresignedExport,
  'validSeconds' | 'requestedSeconds' | 'limitedBy' | 'expiresAt' | 'credentialsExpireAt'
> {
  const requestedSeconds = Math.min(
    MAX_PRESIGN_SECONDS,
    Math.max(MIN_VALID_SECONDS, Math.floor(input.requestedSeconds)),
  );
  const credentialSeconds = input.credentialsExpireAt
    ? Math.floor((input.credentialsExpireAt.getTime() - input.now.getTime()) / 1000)
    : Number.POSITIVE_INFINITY;
  if (credentialSeconds < MIN_VALID_SECONDS) {
    throw new PresignValidityError(
      `the credentials that would sign the link expire at ${input.credentialsExpireAt?.toISOString()} (in ${Math.max(0, credentialSeconds)} s): refresh the session and run again`,
    );
  }
  const limitedBy = credentialSeconds < requestedSeconds ? 'credentials' : 'expires-in';
  const validSeconds = Math.min(requestedSeconds, credentialSeconds);
  return {
    validSeconds,
    requestedSeconds,
    limitedBy,
    expiresAt: new Date(input.now.getTime() + validSeconds * 1000).toISOString(),
    ...(input.credentialsExpireAt ? { credentialsExpireAt: input.credentialsExpireAt.toISOString() } : {}),
  };
}
