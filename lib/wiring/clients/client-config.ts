/** Environment variables as a record: `process.env` in Lambda, an emulator's in tests and the demo. */
export type Env = Readonly<Record<string, string | undefined>>;

/** `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, as the SDK itself resolves them. */
export function endpointFor(service: string, env: Env): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
}

/** What every client of this project shares: region, retries, credentials, and its endpoint. */
export interface ClientConfig {
  readonly region: string;
  readonly maxAttempts: number;
  readonly endpoint: string | undefined;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * One client's configuration. Endpoints are passed explicitly from `env` so tests can aim one
 * process at several emulators. Explicit keys in `env` (the emulators' dummy ones) win when `env`
 * is not `process.env`; otherwise the SDK's default chain applies (the Lambda role's keys).
 */
export function clientConfig(service: string, env: Env): ClientConfig {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && env !== process.env
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
      : undefined;
  return {
    region,
    maxAttempts: 3,
    endpoint: endpointFor(service, env),
    ...(credentials ? { credentials } : {}),
  };
}
