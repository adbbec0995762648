import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { makeDynamoChainHeads } from '../../lib/adapters/dynamodb/dynamodb-chain-heads.ts';
import { makeS3EvidenceRecorder } from '../../lib/adapters/s3/s3-evidence-recorder.ts';
import type { Config } from '../../lib/config/schema.ts';
import type { Verdict } from '../../lib/controls/outcome.ts';
import type { ChainHeadStore } from '../../lib/evidence/chain-head-store.ts';
import { CHECKPOINTS_PREFIX } from '../../lib/evidence/checkpoint.ts';
import { EVIDENCE_PREFIX } from '../../lib/evidence/evidence-recorder.ts';
import { makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import type { ManifestSigner } from '../../lib/evidence/signer.ts';
import { type CheckpointWritten, writeCheckpoint } from '../../lib/evidence/write-checkpoint.ts';
import type { RunResult, StoredEvidence } from '../../lib/runs/run-record.ts';
import { type Cadence, periodFromKey } from '../../lib/shared/period.ts';
import { SYNCED_CHECKPOINTS_FOLDER } from '../../lib/verify/normalise-paths.ts';
import { makeCheckpointDeps } from '../../lib/wiring/make-checkpoint-deps.ts';
import type { TestEnvironment } from '../support/test-environment.ts';

let counter = 0;

/** A finished run of `controlId` for one period, as run-control hands it to the recorder. */
export function runResult(options: {
  controlId: string;
  cadence: Cadence;
  periodKey: string;
  verdict?: Verdict;
  timeZone?: string;
  /** When the run finished; defaults to an hour after the period closed. */
  finishedAt?: Date;
  figures?: Record<string, number | string | boolean | null>;
}): RunResult {
  const period = periodFromKey(options.cadence, options.periodKey, options.timeZone ?? 'UTC');
  const finished = options.finishedAt ?? new Date(period.end.getTime() + 3_600_000);
  const verdict = options.verdict ?? 'pass';
  counter += 1;
  const runId = `${finished
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}-${counter.toString(16).padStart(6, '0')}`;
  return {
    controlId: options.controlId,
    criteria: ['CC7.2'],
    owner: 'security',
    cadence: options.cadence,
    periodKey: period.key,
    periodStart: period.start.toISOString(),
    periodEnd: period.end.toISOString(),
    runId,
    asOf: period.end.toISOString(),
    startedAt: new Date(finished.getTime() - 1000).toISOString(),
    finishedAt: finished.toISOString(),
    outcome: {
      verdict,
      reasons:
        verdict === 'pass'
          ? []
          : [verdict === 'fail' ? 'audit log silent for 4.5 hours' : 'database unreachable'],
      warnings: [],
      figures: options.figures ?? {
        events: 1000 + counter,
        longestSilenceMinutes: verdict === 'fail' ? 270 : 12,
      },
      details: { note: 'fixture' },
    },
    entries: [],
  };
}

/** A configured control as the checkpoint writer sees it. */
export interface FixtureControl {
  readonly id: string;
  readonly cadence: Cadence;
  readonly addedOn?: string;
}

export interface EvidenceFixture {
  readonly signer: ManifestSigner;
  readonly chain: ChainHeadStore;
  record(run: RunResult): Promise<StoredEvidence>;
  /** Writes the next signed checkpoint at `at`, listing `controls` as the configured ones. */
  checkpoint(controls: readonly FixtureControl[], at: Date): Promise<CheckpointWritten>;
}

/** The real recorder, writing to the test environment's fauxqs bucket and dynalite table. */
export function evidenceFixture(
  env: TestEnvironment,
  signer: ManifestSigner = makeLocalSigner(),
): EvidenceFixture {
  const chain = makeDynamoChainHeads(env.clients.dynamodb, env.resources.resultsTable);
  const recorder = makeS3EvidenceRecorder({
    s3: env.clients.s3,
    bucket: env.resources.evidenceBucket,
    signer,
    chain,
  });
  return {
    signer,
    chain,
    record: (run) => recorder.record(run),
    checkpoint: (controls, at) => {
      const config = { timeZone: 'UTC', controls };
      const deps = makeCheckpointDeps({
        config: config as unknown as Config,
        resources: env.resources,
        clients: env.clients,
        signer,
        clock: () => at,
      });
      return writeCheckpoint(deps);
    },
  };
}

export const MONTHS_2026 = Array.from({ length: 12 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}`);

/**
 * Like `aws s3 sync s3://<bucket>/evidence/ <dir>` then `aws s3 sync s3://<bucket>/checkpoints/
 * <dir>/_checkpoints`: every evidence object with the prefix dropped, and the checkpoints beside them.
 */
export async function syncEvidence(
  s3: S3Client,
  bucket: string,
  dir: string,
  options: { checkpoints?: boolean } = {},
): Promise<number> {
  let count = 0;
  count += await syncPrefix(s3, bucket, EVIDENCE_PREFIX, dir);
  if (options.checkpoints ?? true) {
    count += await syncPrefix(s3, bucket, CHECKPOINTS_PREFIX, join(dir, SYNCED_CHECKPOINTS_FOLDER));
  }
  return count;
}

/** Like `aws s3 sync s3://<bucket>/<prefix> <dir>`. */
export async function syncPrefix(s3: S3Client, bucket: string, prefix: string, dir: string): Promise<number> {
  let token: string | undefined;
  let count = 0;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const key = object.Key ?? '';
      const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const path = join(dir, key.slice(prefix.length));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, await (body.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())));
      count += 1;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return count;
}
