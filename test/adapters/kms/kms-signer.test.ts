import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { makeKmsSigner } from '../../../lib/adapters/kms/kms-signer.ts';
import { generateLocalSigningKey } from '../../../lib/evidence/local-signer.ts';
import { publicKeyInfo, SigningError } from '../../../lib/evidence/signer.ts';
import { verifySignature } from '../../../lib/evidence/verify-signature.ts';

const KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/**
 * KMS stand-in backed by a real P-256 key. KMS signs a digest it never sees the message of; node
 * cannot sign a bare digest, so the fake looks the message up by its digest (the test registers
 * every message it signs). A signer that sent anything but SHA-256(message) finds nothing.
 */
function fakeKms(keySpec = 'ECC_NIST_P256') {
  const privateKey = createPrivateKey(generateLocalSigningKey());
  const publicDer = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const messages = new Map<string, Buffer>();
  const client = new KMSClient({ region: 'us-east-1' });
  const mock = mockClient(client);
  mock.on(GetPublicKeyCommand).resolves({
    KeyId: KEY_ID,
    KeySpec: keySpec as 'ECC_NIST_P256',
    KeyUsage: 'SIGN_VERIFY',
    SigningAlgorithms: ['ECDSA_SHA_256'],
    PublicKey: new Uint8Array(publicDer),
  });
  mock.on(SignCommand).callsFake((input: { Message?: Uint8Array }) => {
    const message = messages.get(Buffer.from(input.Message ?? []).toString('hex'));
    if (!message)
      throw Object.assign(new Error('digest of an unknown message'), { name: 'ValidationException' });
    return {
      KeyId: KEY_ID,
      SigningAlgorithm: 'ECDSA_SHA_256',
      Signature: new Uint8Array(sign('sha256', message, privateKey)),
    };
  });
  const register = (message: Buffer) =>
    messages.set(createHash('sha256').update(message).digest('hex'), message);
  return { client, mock, register, publicDer };
}

describe('KMS manifest signer', () => {
  it('sends only the SHA-256 digest with ECDSA_SHA_256 and returns a DER signature the verifier accepts', async () => {
    const kms = fakeKms();
    const signer = makeKmsSigner(kms.client, KEY_ID);
    const message = Buffer.from('{"kind":"soc2-evidence/manifest"}');
    kms.register(message);

    const signature = await signer.sign(message);

    const call = kms.mock.commandCalls(SignCommand)[0]?.args[0].input;
    expect(call).toMatchObject({ KeyId: KEY_ID, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(Buffer.from(call?.Message ?? []).toString('hex')).toBe(
      createHash('sha256').update(message).digest('hex'),
    );
    expect(signature[0]).toBe(0x30); // DER SEQUENCE
    const { pem } = await signer.publicKey();
    expect(verifySignature(message, signature, pem)).toBe(true);
    expect(verifySignature(Buffer.from('{"kind":"tampered"}'), signature, pem)).toBe(false);
  });

  it('publishes the KMS public key under its SPKI fingerprint and asks KMS only once', async () => {
    const kms = fakeKms();
    const signer = makeKmsSigner(kms.client, KEY_ID);

    const [first, second] = await Promise.all([signer.publicKey(), signer.publicKey()]);

    expect(first.fingerprint).toBe(createHash('sha256').update(kms.publicDer).digest('hex'));
    expect(second).toEqual(first);
    expect(publicKeyInfo(first.pem).fingerprint).toBe(first.fingerprint);
    expect(kms.mock.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });

  it('refuses a KMS key that is not ECC_NIST_P256', async () => {
    const kms = fakeKms('RSA_2048');
    await expect(makeKmsSigner(kms.client, KEY_ID).publicKey()).rejects.toThrow(
      /RSA_2048; expected ECC_NIST_P256/,
    );
  });

  it('wraps a KMS refusal (e.g. AccessDenied) in a SigningError naming the key', async () => {
    const client = new KMSClient({ region: 'us-east-1' });
    mockClient(client)
      .on(SignCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const error = await makeKmsSigner(client, KEY_ID)
      .sign(Buffer.from('x'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SigningError);
    expect((error as Error).message).toContain(KEY_ID);
    expect(((error as Error).cause as Error).name).toBe('AccessDeniedException');
  });
});
