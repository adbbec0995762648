import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type ManifestSigner, publicKeyInfo, SIGNATURE_ALGORITHM, SigningError } from './signer.ts';

/** A new P-256 private key, PKCS#8 PEM. */
export function generateLocalSigningKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * Reads the local environment's signing key from `path`, creating it (mode 0600) on first use, so
 * evidence written by one `--keep` session still verifies in the next.
 */
export async function loadOrCreateLocalSigningKey(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pem = generateLocalSigningKey();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, pem, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return readFile(path, 'utf8');
}

/**
 * Signs with a P-256 key held in this process: the local stand-in for KMS (same algorithm, same DER
 * signature, same verifier). Without a key, a fresh one is generated for this process.
 */
export function makeLocalSigner(options: { privateKeyPem?: string } = {}): ManifestSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(options.privateKeyPem ?? generateLocalSigningKey());
  } catch (error) {
    throw new SigningError('the local signing key is not a PEM private key', { cause: error });
  }
  if (privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SigningError('the local signing key must be an EC P-256 key');
  }
  const info = publicKeyInfo(createPublicKey(privateKey));
  return {
    algorithm: SIGNATURE_ALGORITHM,
    publicKey: async () => info,
    sign: async (message) => new Uint8Array(sign('sha256', message, { key: privateKey, dsaEncoding: 'der' })),
  };
}
