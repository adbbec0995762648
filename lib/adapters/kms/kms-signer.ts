import { createHash } from 'node:crypto';
import { GetPublicKeyCommand, type KMSClient, SignCommand } from '@aws-sdk/client-kms';
import {
  type ManifestSigner,
  type PublicKeyInfo,
  publicKeyInfo,
  SIGNATURE_ALGORITHM,
  SigningError,
} from '../../evidence/signer.ts';

/**
 * Signs with an AWS KMS asymmetric key (`ECC_NIST_P256`, `SIGN_VERIFY`). Only the SHA-256 digest is
 * sent (`MessageType: DIGEST`), so manifests of any size sign in one call and never leave the
 * account. Needs `kms:Sign` and, once per cold start, `kms:GetPublicKey` on `keyId`; nothing else.
 */
export function makeKmsSigner(kms: KMSClient, keyId: string): ManifestSigner {
  let publicKey: Promise<PublicKeyInfo> | undefined;
  return {
    algorithm: SIGNATURE_ALGORITHM,
    publicKey() {
      publicKey ??= kms
        .send(new GetPublicKeyCommand({ KeyId: keyId }))
        .then((result) => {
          if (result.KeySpec !== 'ECC_NIST_P256') {
            throw new SigningError(
              `KMS key ${keyId} is ${result.KeySpec ?? 'of unknown spec'}; expected ECC_NIST_P256`,
            );
          }
          if (result.SigningAlgorithms && !result.SigningAlgorithms.includes('ECDSA_SHA_256')) {
            throw new SigningError(`KMS key ${keyId} does not offer ECDSA_SHA_256`);
          }
          if (!result.PublicKey) throw new SigningError(`KMS returned no public key for ${keyId}`);
          return publicKeyInfo(result.PublicKey);
        })
        .catch((error: unknown) => {
          publicKey = undefined;
          if (error instanceof SigningError) throw error;
          throw new SigningError(`could not read the public key of KMS key ${keyId}`, { cause: error });
        });
      return publicKey;
    },
    async sign(message) {
      const digest = createHash('sha256').update(message).digest();
      let signature: Uint8Array | undefined;
      try {
        const result = await kms.send(
          new SignCommand({
            KeyId: keyId,
            Message: digest,
            MessageType: 'DIGEST',
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        );
        signature = result.Signature;
      } catch (error) {
        throw new SigningError(`KMS could not sign with key ${keyId}`, { cause: error });
      }
      if (!signature) throw new SigningError(`KMS returned no signature for key ${keyId}`);
      return signature;
    },
  };
}
