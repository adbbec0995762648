import { type KeyObject, verify } from 'node:crypto';
import { parsePublicKey } from './signer.ts';

/**
 * True when `signature` (DER ECDSA, as KMS and the local signer produce) is valid for `message`
 * under `publicKey`. Never throws on a malformed signature: that is simply not valid.
 */
export function verifySignature(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: string | KeyObject,
): boolean {
  const key = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  try {
    return verify('sha256', message, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
