import { createHash, verify } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KmsSecretsStandIn, startKmsSecretsStandIn } from '../support/kms-secrets-stand-in.ts';

let standIn: KmsSecretsStandIn;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let kms: KMSClient;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  standIn = await startKmsSecretsStandIn();
  kms = new KMSClient({ region: 'us-east-1', endpoint: standIn.endpoint, credentials });
  secrets = new SecretsManagerClient({ region: 'us-east-1', endpoint: standIn.endpoint, credentials });
});
afterAll(async () => {
  kms?.destroy();
  secrets?.destroy();
  await standIn?.stop();
});

/** The stand-in must be as strict as KMS, or the deployed-bundle test could pass on a fake signature. */
describe('KMS and Secrets Manager stand-in', () => {
  it('signs a digest so that the public key it serves verifies the original message', async () => {
    const message = Buffer.from('manifest bytes');
    const digest = createHash('sha256').update(message).digest();
    const { Signature } = await kms.send(
      new SignCommand({
        KeyId: standIn.keyArn,
        Message: digest,
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: standIn.keyArn }));
    const key = { key: Buffer.from(PublicKey ?? []), format: 'der', type: 'spki' } as const;
    expect(verify('sha256', message, key, Buffer.from(Signature ?? []))).toBe(true);
    expect(verify('sha256', Buffer.from('other bytes'), key, Buffer.from(Signature ?? []))).toBe(false);
  });

  it('rejects an unknown key and an unknown secret with the AWS error names', async () => {
    await expect(
      kms.send(
        new SignCommand({
          KeyId: 'arn:aws:kms:us-east-1:000000000000:key/nope',
          Message: Buffer.alloc(32),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: 'missing' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('serves stored secrets by name or ARN, with rotation metadata', async () => {
    const rotated = new Date('2026-11-01T00:00:00Z');
    const arn = standIn.putSecret('app-db', 'postgres://u:p@h/db', {
      rotationEnabled: true,
      rotationDays: 30,
      lastRotatedDate: rotated,
    });
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: 'app-db' }))).SecretString).toBe(
      'postgres://u:p@h/db',
    );
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(described).toMatchObject({
      Name: 'app-db',
      RotationEnabled: true,
      RotationRules: { AutomaticallyAfterDays: 30 },
    });
    expect(described.LastRotatedDate?.toISOString()).toBe(rotated.toISOString());
  });
});
