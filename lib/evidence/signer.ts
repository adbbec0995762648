import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * The one signature scheme of manifests: ECDSA on NIST P-256 over SHA-256 of the exact manifest
 * bytes, DER-encoded (what AWS KMS returns for `ECDSA_SHA_256` on an `ECC_NIST_P256` key).
 */
export const SIGNATURE_ALGORITHM = 'ECDSA_P256_SHA256' as const;
export type SignatureAlgorithm = typeof SIGNATURE_ALGORITHM;

/** The public half of a signing key, as published beside the evidence. */
export interface PublicKeyInfo {
  /** SHA-256 (hex) of the DER SubjectPublicKeyInfo: names the key in manifests and file names. */
  readonly fingerprint: string;
  /** PEM `PUBLIC KEY` (SPKI). */
  readonly pem: string;
}

/**
 * Signs manifests. Adapters: AWS KMS (the key never leaves KMS; the runner may only sign) and a
 * local P-256 key for `npm start` and tests. Both produce the same DER signatures.
 */
export interface ManifestSigner {
  readonly algorithm: SignatureAlgorithm;
  /** The public key, fetched once and cached. */
  publicKey(): Promise<PublicKeyInfo>;
  /** DER ECDSA signature over SHA-256(`message`). */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export class SigningError extends Error {
  override name = 'SigningError';
}

export class InvalidPublicKeyError extends Error {
  override name = 'InvalidPublicKeyError';
}

/** Parses a PEM or DER SPKI public key and checks it is an EC P-256 key. */
export function parsePublicKey(key: string | Uint8Array): KeyObject {
  let object: KeyObject;
  try {
    object =
      typeof key === 'string'
        ? createPublicKey({ key, format: 'pem' })
        : createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' });
  } catch (error) {
    throw new InvalidPublicKeyError('not a PEM/DER public key', { cause: error });
  }
  const curve = object.asymmetricKeyDetails?.namedCurve;
  if (object.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    throw new InvalidPublicKeyError(
      `expected an EC P-256 public key, got ${object.asymmetricKeyType ?? 'unknown'} ${curve ?? ''}`.trim(),
    );
  }
  return object;
}

/** Fingerprint and PEM of a public key (PEM text, DER bytes or a KeyObject). */
export function publicKeyInfo(key: string | Uint8Array | KeyObject): PublicKeyInfo {
  const object = typeof key === 'string' || key instanceof Uint8Array ? parsePublicKey(key) : key;
  const der = object.export({ format: 'der', type: 'spki' });
  return {
    fingerprint: createHash('sha256').update(der).digest('hex'),
    pem: object.export({ format: 'pem', type: 'spki' }).toString(),
  };
}
