import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoChainHeads } from '../../../lib/adapters/dynamodb/dynamodb-chain-heads.ts';
import { makeS3EvidenceRecorder } from '../../../lib/adapters/s3/s3-evidence-recorder.ts';
import { ChainConflictError } from '../../../lib/evidence/chain-head-store.ts';
import { PUBLIC_KEYS_PREFIX, publicKeyKey } from '../../../lib/evidence/evidence-layout.ts';
import { makeLocalSigner } from '../../../lib/evidence/local-signer.ts';
import { parseManifest } from '../../../lib/evidence/manifest.ts';
import { verifySignature } from '../../../lib/evidence/verify-signature.ts';
import { sha256Hex } from '../../../lib/shared/canonical-json.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { evidenceFixture, runResult } from '../../verify/evidence-fixture.ts';

let env: TestEnvironment;
beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
});
afterAll(async () => {
  await env?.stop();
});

async function read(key: string): Promise<Buffer> {
  const object = await env.clients.s3.send(
    new GetObjectCommand({ Bucket: env.resources.evidenceBucket, Key: key }),
  );
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
}

describe('S3 evidence recorder', () => {
  it('chains each run of a control to the previous manifest by hash and signature, and advances the head', async () => {
    const evidence = evidenceFixture(env);
    const first = await evidence.record(
      runResult({ controlId: 'chained', cadence: 'monthly', periodKey: '2026-01' }),
    );
    const second = await evidence.record(
      runResult({ controlId: 'chained', cadence: 'monthly', periodKey: '2026-02', verdict: 'error' }),
    );

    const one = parseManifest(await read(first.manifestKey));
    const twoBytes = await read(second.manifestKey);
    const two = parseManifest(twoBytes);
    const firstSignature = (
      await read(first.manifestKey.replace('manifest.json', 'manifest.sig'))
    ).toString();
    expect(one.chain).toEqual({ sequence: 1, previous: null });
    expect(two.chain).toEqual({
      sequence: 2,
      previous: {
        sequence: 1,
        key: first.manifestKey,
        sha256: first.manifestSha256,
        signature: firstSignature,
        periodKey: '2026-01',
      },
    });
    expect(sha256Hex(twoBytes)).toBe(second.manifestSha256);
    expect(two.verdict).toBe('error');
    expect(two.expiresAt).toBe('2026-04-01T00:00:00.000Z');
    expect(two.artifacts).toEqual([
      {
        key: second.evidenceKey,
        size: (await read(second.evidenceKey)).length,
        sha256: second.evidenceSha256,
        contentType: 'application/json',
      },
    ]);
    const head = await evidence.chain.read('chained');
    expect(head).toMatchObject({
      sequence: 2,
      manifestKey: second.manifestKey,
      manifestSha256: second.manifestSha256,
      periodKey: '2026-02',
    });
  });

  it('signs the exact manifest bytes and publishes the public key once, beside the evidence', async () => {
    const signer = makeLocalSigner();
    const evidence = evidenceFixture(env, signer);
    const stored = await evidence.record(
      runResult({ controlId: 'signed', cadence: 'quarterly', periodKey: '2026-Q1' }),
    );
    await evidence.record(runResult({ controlId: 'signed', cadence: 'quarterly', periodKey: '2026-Q2' }));

    const { fingerprint, pem } = await signer.publicKey();
    const manifest = await read(stored.manifestKey);
    const signature = Buffer.from(
      (await read(stored.manifestKey.replace('manifest.json', 'manifest.sig'))).toString(),
      'base64',
    );
    expect(parseManifest(manifest).signing).toEqual({
      algorithm: 'ECDSA_P256_SHA256',
      keyFingerprint: fingerprint,
      publicKeyKey: publicKeyKey(fingerprint),
    });
    expect((await read(publicKeyKey(fingerprint))).toString()).toBe(pem);
    expect(verifySignature(manifest, signature, pem)).toBe(true);
    const keys = await env.clients.s3.send(
      new ListObjectsV2Command({ Bucket: env.resources.evidenceBucket, Prefix: PUBLIC_KEYS_PREFIX }),
    );
    expect(keys.Contents?.map((object) => object.Key)).toContain(publicKeyKey(fingerprint));
  });

  it('refuses to advance a head another run already moved, and then writes no manifest at all', async () => {
    const signer = makeLocalSigner();
    const chain = makeDynamoChainHeads(env.clients.dynamodb, env.resources.resultsTable);
    // A second writer that read the head before the first one advanced it.
    const staleChain = {
      read: async () => undefined,
      advance: (next: Parameters<typeof chain.advance>[0], expected: number) => chain.advance(next, expected),
    };
    const winner = makeS3EvidenceRecorder({
      s3: env.clients.s3,
      bucket: env.resources.evidenceBucket,
      signer,
      chain,
    });
    const loser = makeS3EvidenceRecorder({
      s3: env.clients.s3,
      bucket: env.resources.evidenceBucket,
      signer,
      chain: staleChain,
    });
    await winner.record(runResult({ controlId: 'raced', cadence: 'monthly', periodKey: '2026-03' }));

    const lost = runResult({ controlId: 'raced', cadence: 'monthly', periodKey: '2026-03' });
    await expect(loser.record(lost)).rejects.toBeInstanceOf(ChainConflictError);

    await expect(read(`evidence/raced/monthly/2026-03/${lost.runId}/manifest.json`)).rejects.toThrow();
    await expect(read(`evidence/raced/monthly/2026-03/${lost.runId}/manifest.sig`)).rejects.toThrow();
    expect((await read(`evidence/raced/monthly/2026-03/${lost.runId}/result.json`)).length).toBeGreaterThan(
      0,
    );
    expect((await chain.read('raced'))?.sequence).toBe(1);
    expect((await chain.read('raced'))?.manifestKey).not.toContain(lost.runId);
  });

  it('rejects a run whose period does not match the configured time zone', async () => {
    const evidence = makeS3EvidenceRecorder({
      s3: env.clients.s3,
      bucket: env.resources.evidenceBucket,
      signer: makeLocalSigner(),
      chain: makeDynamoChainHeads(env.clients.dynamodb, env.resources.resultsTable),
      timeZone: 'Europe/Berlin',
    });
    await expect(
      evidence.record(runResult({ controlId: 'zoned', cadence: 'monthly', periodKey: '2026-05' })),
    ).rejects.toThrow(/in Europe\/Berlin it is 2026-04-30T22:00:00.000Z/);
  });
});
