/**
 * The SDK's default credential chain, as Lambda bundles have it. In Lambda the execution role's
 * credentials are always in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), so the rest of `@aws-sdk/credential-provider-node`'s chain (SSO, INI files,
 * web identity, IMDS, container metadata and the STS/SSO clients they need) is dead weight: about
 * 100 KB of every bundle and its module evaluation at cold start. infra/constructs/soc2-function.ts
 * aliases that package to this file for Lambda bundles only; the CLI and the tests keep the real
 * chain. Same exports as the package, so every client's runtime config binds to it unchanged.
 */

export class LambdaCredentialsError extends Error {
  override name = 'LambdaCredentialsError';
}

interface EnvCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Reads the function role's credentials from the environment Lambda sets, at each signing. */
export function defaultProvider(): () => Promise<EnvCredentials> {
  return async () => {
    const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new LambdaCredentialsError(
        'no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): this bundle is built for Lambda',
      );
    }
    const sessionToken = process.env.AWS_SESSION_TOKEN;
    const expiration = process.env.AWS_CREDENTIAL_EXPIRATION;
    return {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
      ...(expiration ? { expiration: new Date(expiration) } : {}),
    };
  };
}

/** As in the package: credentials with an expiration are refreshed (env credentials have none). */
export const credentialsWillNeedRefresh = (credentials?: { readonly expiration?: Date }): boolean =>
  credentials?.expiration !== undefined;

export const credentialsTreatedAsExpired = (credentials?: { readonly expiration?: Date }): boolean =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
