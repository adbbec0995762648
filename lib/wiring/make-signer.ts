import type { KMSClient } from '@aws-sdk/client-kms';
import { makeKmsSigner } from '../adapters/kms/kms-signer.ts';
import { makeLocalSigner } from '../evidence/local-signer.ts';
import type { ManifestSigner } from '../evidence/signer.ts';

export interface SignerChoice {
  readonly kms: KMSClient;
  /** `SOC2_SIGNING_KEY_ID`: set in AWS (the Lambdas must require it); absent locally. */
  readonly signingKeyId?: string;
  /** Local only: a PEM P-256 private key to reuse across processes; a fresh key when absent. */
  readonly localPrivateKeyPem?: string;
}

let processLocalSigner: ManifestSigner | undefined;

/**
 * KMS when a key id is configured, otherwise the local environment's key: the given PEM, or one key
 * generated once per process (so every recorder in one `npm start` extends chains with the same key).
 */
export function makeManifestSigner(choice: SignerChoice): ManifestSigner {
  if (choice.signingKeyId) return makeKmsSigner(choice.kms, choice.signingKeyId);
  if (choice.localPrivateKeyPem) return makeLocalSigner({ privateKeyPem: choice.localPrivateKeyPem });
  processLocalSigner ??= makeLocalSigner();
  return processLocalSigner;
}
