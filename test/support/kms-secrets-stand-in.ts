import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * KMS and Secrets Manager have no emulator here: this stand-in speaks their JSON protocol
 * (`POST /`, `X-Amz-Target: TrentService.<Op>` / `secretsmanager.<Op>`, awsJson1_1) on a loopback
 * port, for the real SDK clients (`AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`).
 * KMS: one P-256 key; `GetPublicKey` returns its SPKI DER and `Sign` (ECDSA_SHA_256, RAW or DIGEST)
 * a real DER ECDSA signature, so whatever it signs verifies with the public key like KMS output.
 * Secrets Manager: `GetSecretValue` and `DescribeSecret` over the secrets `putSecret` stores.
 * Anything else answers 400 `UnsupportedOperationException`, so an unexpected call fails loudly.
 */
export interface KmsSecretsStandIn {
  readonly endpoint: string;
  /** The one KMS key's ARN; `Sign` and `GetPublicKey` accept it, its key id, or `alias/...` never. */
  readonly keyArn: string;
  readonly publicKeyPem: string;
  /** Every request, in order: `TrentService.Sign`, `secretsmanager.GetSecretValue`, ... */
  readonly calls: { readonly target: string; readonly input: Record<string, unknown> }[];
  putSecret(name: string, value: string, metadata?: SecretMetadata): string;
  stop(): Promise<void>;
}

export interface SecretMetadata {
  readonly rotationEnabled?: boolean;
  readonly rotationDays?: number;
  readonly lastRotatedDate?: Date;
  readonly lastChangedDate?: Date;
}

interface StoredSecret extends SecretMetadata {
  readonly arn: string;
  readonly name: string;
  readonly value: string;
  readonly versionId: string;
}

class StandInError extends Error {
  override name = 'StandInError';
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

// P-256 group order: s = k^-1 (z + r d) mod n.
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

const toBigInt = (bytes: Buffer): bigint => BigInt(`0x${bytes.toString('hex') || '0'}`);
const jwkScalar = (key: KeyObject, field: 'd' | 'x'): bigint =>
  toBigInt(Buffer.from(String(key.export({ format: 'jwk' })[field]), 'base64url'));

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/**
 * ECDSA over a 32-byte SHA-256 digest, which node:crypto cannot do (it always hashes its input):
 * the nonce point kG comes from a fresh P-256 key pair (its public x), the rest is modular
 * arithmetic. DER-encoded, as KMS returns it.
 */
function signDigest(digest: Buffer, privateKey: KeyObject): Buffer {
  const d = jwkScalar(privateKey, 'd');
  const z = toBigInt(digest);
  for (;;) {
    const nonce = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const k = jwkScalar(nonce.privateKey, 'd');
    const r = jwkScalar(nonce.publicKey, 'x') % N;
    if (r === 0n) continue;
    const s = (modPow(k, N - 2n, N) * ((z + r * d) % N)) % N;
    if (s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function startKmsSecretsStandIn(
  options: { readonly region?: string; readonly account?: string } = {},
): Promise<KmsSecretsStandIn> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '000000000000';
  const keyId = randomUUID();
  const keyArn = `arn:aws:kms:${region}:${account}:key/${keyId}`;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const publicKey = createPublicKey(signingKey);
  const secrets = new Map<string, StoredSecret>();
  const calls: KmsSecretsStandIn['calls'] = [];

  const secret = (id: unknown): StoredSecret => {
    const found = secrets.get(String(id)) ?? [...secrets.values()].find((s) => s.arn === id);
    if (!found)
      throw new StandInError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return found;
  };
  const key = (id: unknown): void => {
    if (id !== keyArn && id !== keyId)
      throw new StandInError('NotFoundException', `Key '${String(id)}' does not exist`);
  };
  const seconds = (date: Date | undefined) => (date ? date.getTime() / 1000 : undefined);

  const operations: Record<string, (input: Record<string, unknown>) => Record<string, unknown>> = {
    'TrentService.GetPublicKey': (input) => {
      key(input.KeyId);
      return {
        KeyId: keyArn,
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: ['ECDSA_SHA_256'],
        PublicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      };
    },
    'TrentService.Sign': (input) => {
      key(input.KeyId);
      if (input.SigningAlgorithm !== 'ECDSA_SHA_256') {
        throw new StandInError(
          'InvalidKeyUsageException',
          `unsupported algorithm ${String(input.SigningAlgorithm)}`,
        );
      }
      const message = Buffer.from(String(input.Message), 'base64');
      const digest = input.MessageType === 'DIGEST' ? message : createHash('sha256').update(message).digest();
      if (digest.length !== 32)
        throw new StandInError(
          'ValidationException',
          'Digest is invalid length for algorithm ECDSA_SHA_256.',
        );
      return {
        KeyId: keyArn,
        SigningAlgorithm: 'ECDSA_SHA_256',
        Signature: signDigest(digest, signingKey).toString('base64'),
      };
    },
    'secretsmanager.GetSecretValue': (input) => {
      const found = secret(input.SecretId);
      return {
        ARN: found.arn,
        Name: found.name,
        SecretString: found.value,
        VersionId: found.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: seconds(found.lastChangedDate ?? new Date()),
      };
    },
    'secretsmanager.DescribeSecret': (input) => {
      const found = secret(input.SecretId);
      return {
        ARN: found.arn,
        Name: found.name,
        RotationEnabled: found.rotationEnabled ?? false,
        ...(found.rotationDays ? { RotationRules: { AutomaticallyAfterDays: found.rotationDays } } : {}),
        ...(found.lastRotatedDate ? { LastRotatedDate: seconds(found.lastRotatedDate) } : {}),
        ...(found.lastChangedDate ? { LastChangedDate: seconds(found.lastChangedDate) } : {}),
      };
    },
  };

  const answer = (response: ServerResponse, status: number, body: Record<string, unknown>) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
  };
  const server = createServer((request, response) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    readJson(request)
      .then((input) => {
        calls.push({ target, input });
        const operation = operations[target];
        if (!operation)
          throw new StandInError(
            'UnsupportedOperationException',
            `stand-in does not serve ${target || '(no X-Amz-Target)'}`,
          );
        answer(response, 200, operation(input));
      })
      .catch((error: unknown) => {
        const type = error instanceof StandInError ? error.type : 'InternalFailure';
        const message = error instanceof Error ? error.message : String(error);
        response.setHeader('x-amzn-errortype', type);
        answer(response, error instanceof StandInError ? 400 : 500, { __type: type, message });
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    keyArn,
    publicKeyPem: String(publicKey.export({ format: 'pem', type: 'spki' })),
    calls,
    putSecret(name, value, metadata = {}) {
      const arn = `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${randomUUID().slice(0, 6)}`;
      secrets.set(name, { ...metadata, arn, name, value, versionId: randomUUID() });
      return arn;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
