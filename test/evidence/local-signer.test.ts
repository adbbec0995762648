import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  generateLocalSigningKey,
  loadOrCreateLocalSigningKey,
  makeLocalSigner,
} from '../../lib/evidence/local-signer.ts';
import { SigningError } from '../../lib/evidence/signer.ts';
import { verifySignature } from '../../lib/evidence/verify-signature.ts';
import { makeManifestSigner } from '../../lib/wiring/make-signer.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('local manifest signer', () => {
  it('signs in the same DER ECDSA P-256 format the verifier checks', async () => {
    const signer = makeLocalSigner();
    const message = Buffer.from('manifest bytes');
    const signature = await signer.sign(message);
    const { pem } = await signer.publicKey();
    expect(signer.algorithm).toBe('ECDSA_P256_SHA256');
    expect(verifySignature(message, signature, pem)).toBe(true);
    expect(verifySignature(Buffer.from('manifest bytez'), signature, pem)).toBe(false);
  });

  it('keeps the same key, and so the same fingerprint, when given the same PEM', async () => {
    const pem = generateLocalSigningKey();
    const a = await makeLocalSigner({ privateKeyPem: pem }).publicKey();
    const b = await makeLocalSigner({ privateKeyPem: pem }).publicKey();
    const other = await makeLocalSigner().publicKey();
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(other.fingerprint).not.toBe(a.fingerprint);
  });

  it('creates the local key file once, readable only by its owner, and reuses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'soc2-signing-'));
    dirs.push(dir);
    const path = join(dir, 'nested', 'signing-key.pem');
    const first = await loadOrCreateLocalSigningKey(path);
    const second = await loadOrCreateLocalSigningKey(path);
    expect(second).toBe(first);
    expect(await readFile(path, 'utf8')).toBe(first);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('rejects a key that is not P-256', () => {
    expect(() => makeLocalSigner({ privateKeyPem: 'not a key' })).toThrow(SigningError);
  });

  it('gives every recorder in one process the same local key when no KMS key is configured', async () => {
    const kms = {} as Parameters<typeof makeManifestSigner>[0]['kms'];
    const a = await makeManifestSigner({ kms }).publicKey();
    const b = await makeManifestSigner({ kms }).publicKey();
    expect(b.fingerprint).toBe(a.fingerprint);
  });
});
