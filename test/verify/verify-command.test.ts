import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoChainHeads } from '../../lib/adapters/dynamodb/dynamodb-chain-heads.ts';
import { makeS3EvidenceRecorder } from '../../lib/adapters/s3/s3-evidence-recorder.ts';
import { verifyCommand } from '../../lib/cli/verify-command.ts';
import { makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { evidenceFixture, runResult, syncEvidence, syncPrefix } from './evidence-fixture.ts';

const AS_OF = '2026-07-10T00:00:00Z';
const CONTROLS = [{ id: 'backups', cadence: 'monthly' as const, addedOn: '2026-01-01' }];

let env: TestEnvironment;
let work: string;
let folder: string;
let fingerprint: string;
let pemFile: string;

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  work = await mkdtemp(join(tmpdir(), 'soc2-verify-cli-'));
  const signer = makeLocalSigner();
  fingerprint = (await signer.publicKey()).fingerprint;
  pemFile = join(work, 'trusted.pem');
  await writeFile(pemFile, (await signer.publicKey()).pem);
  const evidence = evidenceFixture(env, signer);
  for (const month of ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06']) {
    await evidence.record(runResult({ controlId: 'backups', cadence: 'monthly', periodKey: month }));
  }
  await evidence.checkpoint(CONTROLS, new Date('2026-07-09T12:00:00Z'));
  folder = join(work, 'evidence');
  await syncEvidence(env.clients.s3, env.resources.evidenceBucket, folder);
});

afterAll(async () => {
  await env?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env: {} },
  };
}

describe('soc2-evidence verify', () => {
  it('exits 0 with a per-control summary and the signing key when everything holds', async () => {
    const { out, io } = capture();
    expect(await verifyCommand([folder, '--as-of', AS_OF], io)).toBe(0);
    const text = out.join('');
    expect(text).toContain(`${fingerprint}  6 manifest(s)`);
    expect(text).toMatch(/backups\s+monthly\s+#1-6\s+6\/6\s+6\s+0\s+0\s+OK/);
    expect(text).toMatch(
      /VERIFIED: 6 artifact\(s\) match their manifests, 6 signature\(s\) valid, 1 chain\(s\) complete\./,
    );
  });

  it('fails manifests signed by a key other than the pinned one, and passes with the right pin', async () => {
    const pinned = capture();
    expect(await verifyCommand([folder, '--as-of', AS_OF, '--trusted-key', pemFile], pinned.io)).toBe(0);
    expect(pinned.out.join('')).toContain(`${fingerprint}  6 manifest(s), trusted`);

    const wrong = capture();
    expect(
      await verifyCommand([folder, '--as-of', AS_OF, '--trusted-key', 'f'.repeat(64), '--json'], wrong.io),
    ).toBe(1);
    const report = JSON.parse(wrong.out.join(''));
    // Six manifests and the checkpoint, all signed by the unpinned key.
    expect(report.problems).toHaveLength(7);
    expect(report.problems.every((problem: { code: string }) => problem.code === 'key-untrusted')).toBe(true);
    expect(report.problems[1]).toMatchObject({ code: 'key-untrusted', controlId: 'backups' });
    expect(report.keys).toEqual([{ fingerprint, manifests: 6, trusted: false }]);
  });

  it('expects the periods that fell due after the last manifest', async () => {
    const { out, io } = capture();
    expect(await verifyCommand([folder, '--as-of', '2026-09-15T00:00:00Z'], io)).toBe(1);
    expect(out.join('')).toMatch(
      /chain-truncated: \[backups 2026-07\] backups: the chain ends at sequence 6 \(period 2026-06.*period\(s\) 2026-07, 2026-08 were due/,
    );
  });

  it('leaves nothing but an unsealed run folder (a note) when a run loses the race for the chain head', async () => {
    const signer = makeLocalSigner();
    const evidence = evidenceFixture(env, signer);
    await evidence.record(runResult({ controlId: 'raced', cadence: 'monthly', periodKey: '2026-05' }));
    const head = await evidence.chain.read('raced');
    const loser = makeS3EvidenceRecorder({
      s3: env.clients.s3,
      bucket: env.resources.evidenceBucket,
      signer,
      chain: {
        read: async () => head,
        advance: makeDynamoChainHeads(env.clients.dynamodb, env.resources.resultsTable).advance,
      },
    });
    await evidence.record(runResult({ controlId: 'raced', cadence: 'monthly', periodKey: '2026-06' }));
    await expect(
      loser.record(runResult({ controlId: 'raced', cadence: 'monthly', periodKey: '2026-06' })),
    ).rejects.toThrow(/moved past sequence 1/);
    const dir = join(work, 'raced');
    await syncEvidence(env.clients.s3, env.resources.evidenceBucket, dir);

    const { out, io } = capture();
    expect(await verifyCommand([dir, '--as-of', AS_OF, '--json'], io)).toBe(0);
    const report = JSON.parse(out.join(''));
    const raced = report.controls.find((control: { controlId: string }) => control.controlId === 'raced');
    // The head advances before any manifest is written, so the loser wrote no manifest at all.
    expect(raced).toMatchObject({ manifests: 2, orphans: 0, lastSequence: 2, coveredPeriods: 2, ok: true });
    expect(report.notes.map((note: { code: string }) => note.code)).toContain('unsealed-run');
  });

  it('reads a folder synced from the bucket root as well as from the evidence prefix', async () => {
    const root = join(work, 'root');
    await syncEvidence(env.clients.s3, env.resources.evidenceBucket, join(root, 'evidence'), {
      checkpoints: false,
    });
    await syncPrefix(env.clients.s3, env.resources.evidenceBucket, 'checkpoints/', join(root, 'checkpoints'));
    const { out, io } = capture();
    expect(await verifyCommand([root, '--as-of', AS_OF, '--json'], io)).toBe(0);
    expect(
      JSON.parse(out.join('')).controls.map((control: { controlId: string }) => control.controlId),
    ).toContain('backups');
  });

  it('exits 2 on bad usage or an unreadable path', async () => {
    const missing = capture();
    expect(await verifyCommand([join(work, 'nope.zip')], missing.io)).toBe(2);
    expect(missing.err.join('')).toMatch(/cannot read .*nope\.zip/);
    const notZip = join(work, 'not.zip');
    await writeFile(notZip, 'hello');
    const garbage = capture();
    expect(await verifyCommand([notZip], garbage.io)).toBe(2);
    expect(garbage.err.join('')).toMatch(/not a readable zip archive/);
    const noPath = capture();
    expect(await verifyCommand([], noPath.io)).toBe(2);
    expect(noPath.err.join('')).toContain('expected exactly one PATH');
    const badKey = capture();
    expect(await verifyCommand([folder, '--trusted-key', 'abc'], badKey.io)).toBe(2);
    expect(badKey.err.join('')).toMatch(/--trusted-key abc: not a fingerprint/);
    const help = capture();
    expect(await verifyCommand(['--help'], help.io)).toBe(0);
    expect(help.out.join('')).toContain('Exit codes: 0 everything holds');
    expect((await readFile(pemFile, 'utf8')).startsWith('-----BEGIN PUBLIC KEY-----')).toBe(true);
  });
});
