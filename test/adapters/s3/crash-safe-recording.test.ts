import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoChainHeads } from '../../../lib/adapters/dynamodb/dynamodb-chain-heads.ts';
import { makeS3ObjectReader } from '../../../lib/adapters/s3/s3-evidence-reader.ts';
import { makeS3EvidenceRecorder, makeS3ObjectStore } from '../../../lib/adapters/s3/s3-evidence-recorder.ts';
import type { ChainHeadStore } from '../../../lib/evidence/chain-head-store.ts';
import { configHash } from '../../../lib/evidence/checkpoint.ts';
import { PUBLIC_KEYS_PREFIX } from '../../../lib/evidence/evidence-layout.ts';
import { makeLocalSigner } from '../../../lib/evidence/local-signer.ts';
import {
  type CheckpointDeps,
  makeMemoryCheckpointHeads,
  writeCheckpoint,
} from '../../../lib/evidence/write-checkpoint.ts';
import type { ArchiveFile } from '../../../lib/verify/archive-file.ts';
import { verifyArchive } from '../../../lib/verify/verify-archive.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { runResult } from '../../verify/evidence-fixture.ts';
import { fileOf } from '../../verify/memory-archive.ts';

let env: TestEnvironment;
/** The emulator's client, with S3's real If-None-Match behaviour. */
let s3: S3Client;
beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  s3 = withConditionalWrites(env.clients.s3);
});
afterAll(async () => {
  await env?.stop();
});

/** How the write at the chosen step dies. */
type Fault = 'before' | 'after' | 'duplicate';

class InjectedCrashError extends Error {
  override name = 'InjectedCrashError';
}

/**
 * Counts every write (each S3 PutObject and each chain-head advance) and kills the one numbered
 * `at`: `before` it reaches the store, `after` it landed (the response is lost, as in a timeout),
 * or `duplicate`: it is sent twice, as the SDK does when a response is lost, and must succeed.
 */
function faultInjector(at: number, fault: Fault) {
  let step = 0;
  const steps: string[] = [];
  const hit = async <T>(label: string, write: () => Promise<T>): Promise<T> => {
    const index = step;
    step += 1;
    steps.push(label);
    if (index !== at) return write();
    if (fault === 'before') throw new InjectedCrashError(`killed before ${label}`);
    const result = await write();
    if (fault === 'after') throw new InjectedCrashError(`killed after ${label}`);
    return write().then(() => result);
  };
  const s3 = (real: S3Client): S3Client =>
    new Proxy(real, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return (command: unknown) =>
          command instanceof PutObjectCommand
            ? hit(`PutObject ${command.input.Key}`, () => target.send(command))
            : target.send(command as never);
      },
    });
  const heads = (real: ChainHeadStore): ChainHeadStore => ({
    read: (controlId, kind) => real.read(controlId, kind),
    advance: (next, expected) =>
      hit(`advance ${next.controlId} to ${next.sequence}`, () => real.advance(next, expected)),
  });
  return { s3, heads, steps, count: () => step };
}

/**
 * fauxqs accepts `If-None-Match: *` but ignores it (it overwrites). Real S3 answers 412
 * PreconditionFailed when the key exists; this wrapper restores that, so the tests exercise the
 * 412 path the recorder must survive.
 */
function withConditionalWrites(real: S3Client): S3Client {
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: unknown) => {
        if (command instanceof PutObjectCommand && command.input.IfNoneMatch === '*') {
          const exists = await target
            .send(new HeadObjectCommand({ Bucket: command.input.Bucket, Key: command.input.Key }))
            .then(
              () => true,
              () => false,
            );
          if (exists) {
            throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
              name: 'PreconditionFailed',
              $metadata: { httpStatusCode: 412 },
            });
          }
        }
        return target.send(command as never);
      };
    },
  });
}

async function bucketFiles(prefixes: readonly string[]): Promise<Map<string, ArchiveFile>> {
  const files = new Map<string, ArchiveFile>();
  for (const prefix of prefixes) {
    const page = await env.clients.s3.send(
      new ListObjectsV2Command({ Bucket: env.resources.evidenceBucket, Prefix: prefix }),
    );
    for (const object of page.Contents ?? []) {
      const key = object.Key ?? '';
      const body = await env.clients.s3.send(
        new GetObjectCommand({ Bucket: env.resources.evidenceBucket, Key: key }),
      );
      files.set(key, fileOf(key, Buffer.from((await body.Body?.transformToByteArray()) ?? [])));
    }
  }
  return files;
}

const signer = makeLocalSigner();
let scenario = 0;

/** One crash scenario: a healthy January, a February that dies at `at`, its retry, a checkpoint, verify. */
async function crashAndRetry(at: number, fault: Fault) {
  scenario += 1;
  const controlId = `crash-${scenario}`;
  const bucket = env.resources.evidenceBucket;
  const heads = makeDynamoChainHeads(env.clients.dynamodb, env.resources.resultsTable);
  const healthy = makeS3EvidenceRecorder({ s3: s3, bucket, signer, chain: heads });
  await healthy.record(runResult({ controlId, cadence: 'monthly', periodKey: '2026-01' }));

  const injector = faultInjector(at, fault);
  const faulty = makeS3EvidenceRecorder({
    s3: injector.s3(s3),
    bucket,
    signer,
    chain: injector.heads(heads),
  });
  const attempt = faulty.record(
    runResult({ controlId, cadence: 'monthly', periodKey: '2026-02', verdict: 'error' }),
  );
  const crashed = await attempt.then(
    () => false,
    (error: unknown) => {
      if (!(error instanceof InjectedCrashError)) throw error;
      return true;
    },
  );
  // The job is retried (a new attempt, a new run id), by a fresh process.
  const retry = makeS3EvidenceRecorder({ s3: s3, bucket, signer, chain: heads });
  await retry.record(runResult({ controlId, cadence: 'monthly', periodKey: '2026-02' }));

  const writtenAt = new Date(Date.UTC(2026, 2, 4, 12, scenario));
  const deps: CheckpointDeps = {
    config: { timeZone: 'UTC', controls: [{ id: controlId, cadence: 'monthly', addedOn: '2026-01-01' }] },
    configSha256: configHash({ controlId }),
    chains: heads,
    checkpoints: makeMemoryCheckpointHeads(),
    store: makeS3ObjectStore(s3, bucket),
    readObject: makeS3ObjectReader(s3, bucket),
    signer,
    clock: () => writtenAt,
  };
  const checkpoint = await writeCheckpoint(deps);
  const files = await bucketFiles([`evidence/${controlId}/`, PUBLIC_KEYS_PREFIX, checkpoint.key]);
  const report = verifyArchive(
    { kind: 'folder', source: controlId, files, bytes: 0 },
    { asOf: new Date(writtenAt.getTime() + 3_600_000), range: { from: '2026-01-01', to: '2026-02-28' } },
  );
  return { crashed, steps: injector.steps, report };
}

describe('crash-safe evidence writes', () => {
  it('verifies green after a crash at every write step, before or after the write, and its retry', async () => {
    // A dry run counts the steps of one record: seal the head, artifact, public key, advance, signature, manifest.
    const dry = faultInjector(-1, 'before');
    const heads = makeDynamoChainHeads(env.clients.dynamodb, env.resources.resultsTable);
    const bucket = env.resources.evidenceBucket;
    await makeS3EvidenceRecorder({ s3: s3, bucket, signer, chain: heads }).record(
      runResult({ controlId: 'dry', cadence: 'monthly', periodKey: '2026-01' }),
    );
    await makeS3EvidenceRecorder({
      s3: dry.s3(s3),
      bucket,
      signer,
      chain: dry.heads(heads),
    }).record(runResult({ controlId: 'dry', cadence: 'monthly', periodKey: '2026-02' }));
    expect(
      dry.steps.map((step) =>
        step.replace(/ evidence\/dry\/.*\//, ' ').replace(/ evidence\/_public-keys\/.*/, ' key'),
      ),
    ).toEqual([
      'PutObject manifest.sig',
      'PutObject manifest.json',
      'PutObject result.json',
      'PutObject key',
      'advance dry to 2',
      'PutObject manifest.sig',
      'PutObject manifest.json',
    ]);
    const tried: string[] = [];
    let crashes = 0;
    for (let at = 0; at < dry.count(); at += 1) {
      for (const fault of ['before', 'after', 'duplicate'] as const) {
        const { crashed, steps, report } = await crashAndRetry(at, fault);
        tried.push(`${fault} ${steps[at]}`);
        if (crashed) crashes += 1;
        if (fault === 'duplicate') expect(crashed).toBe(false);
        expect({ at, fault, problems: report.problems }).toEqual({ at, fault, problems: [] });
        expect(report.controls[0]).toMatchObject({ coveredPeriods: 2, ok: true });
        // The retry's verdict is the period's: never the crashed attempt's `error`.
        expect(report.controls[0]?.verdicts).toEqual({ pass: 2, fail: 0, error: 0 });
      }
    }
    expect(tried).toHaveLength(21);
    // Every kill before a write (7), and after each write that was new (4: artifact, advance, signature, manifest); the
    // others met an object already there, a 412 the store resolves as success, so nothing was left to kill.
    expect(crashes).toBe(11);
  }, 120_000);

  it('treats a 412 on an object that holds the same bytes as success, and other bytes as a conflict', async () => {
    const store = makeS3ObjectStore(s3, env.resources.evidenceBucket);
    const body = Buffer.from('{"same":true}');
    const sha = await store.putOnce('evidence/idem/once.json', body, 'application/json');
    await expect(store.putOnce('evidence/idem/once.json', body, 'application/json')).resolves.toBe(sha);
    await expect(
      store.putOnce('evidence/idem/once.json', Buffer.from('{"other":1}'), 'application/json'),
    ).rejects.toMatchObject({
      name: 'EvidenceConflictError',
    });
  });

  it('repairs a checkpoint whose head advanced but whose object was never written', async () => {
    const bucket = env.resources.evidenceBucket;
    const real = makeS3ObjectStore(s3, bucket);
    let killed = false;
    const checkpoints = makeMemoryCheckpointHeads();
    const base = {
      config: { timeZone: 'UTC', controls: [] },
      configSha256: configHash({}),
      chains: makeDynamoChainHeads(env.clients.dynamodb, env.resources.resultsTable),
      checkpoints,
      readObject: makeS3ObjectReader(s3, bucket),
      signer,
    };
    const first = writeCheckpoint({
      ...base,
      clock: () => new Date('2030-01-01T00:00:00Z'),
      store: {
        putOnce: (key, body, type) => {
          if (key.startsWith('checkpoints/') && !killed) {
            killed = true;
            return Promise.reject(new InjectedCrashError('killed before the checkpoint object'));
          }
          return real.putOnce(key, body, type);
        },
      },
    });
    await expect(first).rejects.toBeInstanceOf(InjectedCrashError);
    const second = await writeCheckpoint({
      ...base,
      store: real,
      clock: () => new Date('2030-01-02T00:00:00Z'),
    });
    expect(second.sequence).toBe(2);
    const files = await bucketFiles(['checkpoints/2030', PUBLIC_KEYS_PREFIX]);
    expect([...files.keys()].filter((key) => key.startsWith('checkpoints/'))).toEqual([
      'checkpoints/20300101T000000Z.json',
      'checkpoints/20300102T000000Z.json',
    ]);
    const report = verifyArchive(
      { kind: 'folder', source: 'c', files, bytes: 0 },
      { asOf: new Date('2030-01-02T01:00:00Z') },
    );
    expect(report.problems).toEqual([]);
  });
});
