import type { Verdict } from '../../../lib/controls/outcome.ts';
import { type ChainHeadStore, makeMemoryChainHeads } from '../../../lib/evidence/chain-head-store.ts';
import { configHash } from '../../../lib/evidence/checkpoint.ts';
import { lastDayOf } from '../../../lib/evidence/coverage.ts';
import type { EvidenceObjectStore } from '../../../lib/evidence/evidence-object-store.ts';
import { makeEvidenceRecorder, makeMemoryObjectStore } from '../../../lib/evidence/record-evidence.ts';
import type { ManifestSigner } from '../../../lib/evidence/signer.ts';
import { makeMemoryCheckpointHeads, writeCheckpoint } from '../../../lib/evidence/write-checkpoint.ts';
import type { RunResult } from '../../../lib/runs/run-record.ts';
import { type Cadence, nextPeriod, type Period, periodContaining } from '../../../lib/shared/period.ts';
import type { ArchiveContents, ArchiveFile } from '../../../lib/verify/archive-file.ts';
import { fileOf } from '../memory-archive.ts';

/** The window every generated history lives in: a quarter, checked two days after it closed. */
export const RANGE = { from: '2026-01-01', to: '2026-03-31' } as const;
export const AS_OF = new Date('2026-04-02T00:00:00Z');
/** The last checkpoint: after the range, before the check, and the last write of every history. */
export const FINAL_CHECKPOINT_AT = new Date('2026-04-01T18:00:00Z');
const GRACE_MS = 24 * 3_600_000;

export interface ControlSpec {
  readonly cadence: Cadence;
  /** Days after the range start the control came into force. */
  readonly addedAfterDays: number;
}

export interface HistorySpec {
  readonly controls: readonly ControlSpec[];
  /** Switch from the first signing key to the second after this fraction of the writes, if set. */
  readonly rotateAt: number | null;
  /** Restore-validator runs (the `events` chain), on random days. */
  readonly validatorRuns: number;
  /** Drives every other choice (re-runs, crashes, verdicts, checkpoint days). */
  readonly seed: number;
}

/** Small deterministic PRNG (mulberry32), so a history is a pure function of its spec. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Action {
  readonly at: Date;
  readonly kind: 'run' | 'checkpoint';
  readonly run?: {
    controlId: string;
    cadence: Cadence;
    period: Period;
    verdict: Verdict;
    chain: 'scheduled' | 'events';
  };
  /** Kill this run's write number `crashAt` (before or after it lands), then retry it. */
  readonly crash?: { readonly at: number; readonly after: boolean };
}

let runCounter = 0;
function runOf(spec: NonNullable<Action['run']>, finished: Date): RunResult {
  runCounter += 1;
  const runId = `${finished
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}-${runCounter.toString(16).padStart(6, '0')}`;
  return {
    controlId: spec.controlId,
    criteria: ['CC7.2'],
    owner: 'security',
    cadence: spec.cadence,
    periodKey: spec.period.key,
    periodStart: spec.period.start.toISOString(),
    periodEnd: spec.period.end.toISOString(),
    runId,
    asOf: spec.period.end.toISOString(),
    startedAt: new Date(finished.getTime() - 1000).toISOString(),
    finishedAt: finished.toISOString(),
    outcome: {
      verdict: spec.verdict,
      reasons: spec.verdict === 'pass' ? [] : ['generated'],
      warnings: [],
      figures: { n: runCounter },
      details: null,
    },
    entries: [],
    ...(spec.chain === 'events' ? { chainKind: 'events' as const } : {}),
  };
}

class InjectedCrashError extends Error {
  override name = 'InjectedCrashError';
}

/** Wraps a store and heads so write number `at` dies before or after it lands. */
function crashing(store: EvidenceObjectStore, chain: ChainHeadStore, at: number, after: boolean) {
  let step = 0;
  const hit = async <T>(write: () => Promise<T>): Promise<T> => {
    const index = step;
    step += 1;
    if (index !== at) return write();
    if (!after) throw new InjectedCrashError('killed before the write');
    await write();
    throw new InjectedCrashError('killed after the write');
  };
  return {
    store: {
      putOnce: (key, body, type) => hit(() => store.putOnce(key, body, type)),
    } satisfies EvidenceObjectStore,
    chain: {
      read: chain.read,
      advance: (next, expected) => hit(() => chain.advance(next, expected)),
    } satisfies ChainHeadStore,
  };
}

export interface BuiltHistory {
  readonly files: Map<string, ArchiveFile>;
  readonly trustedKeys: readonly string[];
  readonly controlIds: readonly string[];
  readonly stats: {
    runs: number;
    reruns: number;
    crashes: number;
    validatorRuns: number;
    checkpoints: number;
    rotated: boolean;
  };
}

const dueBy = (period: Period) =>
  lastDayOf(period) <= RANGE.to && period.end.getTime() + GRACE_MS <= AS_OF.getTime();

/**
 * Plays a legitimate history through the real recorder and checkpoint writer (pure, in memory):
 * every period of every control from its `addedOn` is run once after it closes, some are re-run
 * later (also after later periods), some runs crash at a random write and are retried, the restore
 * validator records on its own chain, the signing key may rotate, checkpoints are written on random
 * days and once after the range ends. Returns the bucket as verify would read it.
 */
export async function buildHistory(
  spec: HistorySpec,
  signers: readonly [ManifestSigner, ManifestSigner],
): Promise<BuiltHistory> {
  const random = prng(spec.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const verdict = (): Verdict => (random() < 0.75 ? 'pass' : random() < 0.6 ? 'fail' : 'error');
  const actions: Action[] = [];
  const controls = spec.controls.map((control, index) => ({
    id: `control-${index}`,
    cadence: control.cadence,
    addedOn: new Date(Date.parse(`${RANGE.from}T00:00:00Z`) + control.addedAfterDays * 86_400_000)
      .toISOString()
      .slice(0, 10),
  }));
  const stats = { runs: 0, reruns: 0, crashes: 0, validatorRuns: 0, checkpoints: 0, rotated: false };
  for (const control of controls) {
    let period = periodContaining(control.cadence, new Date(`${control.addedOn}T00:00:00Z`), 'UTC');
    while (dueBy(period)) {
      const at = new Date(period.end.getTime() + (1 + Math.floor(random() * 5)) * 3_600_000);
      const run = {
        controlId: control.id,
        cadence: control.cadence,
        period,
        verdict: verdict(),
        chain: 'scheduled' as const,
      };
      const crash = random() < 0.15 ? { at: Math.floor(random() * 7), after: random() < 0.5 } : undefined;
      actions.push({ at, kind: 'run', run, ...(crash ? { crash } : {}) });
      if (random() < 0.12) {
        // A re-run, days later (possibly after later periods ran), before the final checkpoint.
        const later = Math.min(
          at.getTime() + (1 + random() * 20) * 86_400_000,
          FINAL_CHECKPOINT_AT.getTime() - 60_000,
        );
        actions.push({ at: new Date(later), kind: 'run', run: { ...run, verdict: verdict() } });
        stats.reruns += 1;
      }
      period = nextPeriod(period);
    }
  }
  for (let i = 0; i < spec.validatorRuns; i += 1) {
    const control = pick(controls);
    const day = periodContaining(
      'daily',
      new Date(Date.parse(`${RANGE.from}T00:00:00Z`) + Math.floor(random() * 88) * 86_400_000),
      'UTC',
    );
    if (day.start.toISOString().slice(0, 10) < control.addedOn) continue;
    actions.push({
      at: new Date(day.end.getTime() - 3_600_000),
      kind: 'run',
      run: { controlId: control.id, cadence: 'daily', period: day, verdict: verdict(), chain: 'events' },
    });
    stats.validatorRuns += 1;
  }
  for (let day = 0; day < 90; day += 1) {
    if (random() < 0.1)
      actions.push({
        at: new Date(Date.parse(`${RANGE.from}T23:30:00Z`) + day * 86_400_000),
        kind: 'checkpoint',
      });
  }
  actions.sort((a, b) => a.at.getTime() - b.at.getTime());
  actions.push({ at: FINAL_CHECKPOINT_AT, kind: 'checkpoint' });

  const store = makeMemoryObjectStore();
  const chain = makeMemoryChainHeads();
  const checkpoints = makeMemoryCheckpointHeads();
  const rotateIndex =
    spec.rotateAt === null ? Number.POSITIVE_INFINITY : Math.floor(spec.rotateAt * actions.length);
  const config = { timeZone: 'UTC', controls };
  for (const [index, action] of actions.entries()) {
    const signer = index >= rotateIndex ? signers[1] : signers[0];
    if (index >= rotateIndex) stats.rotated = true;
    if (action.kind === 'checkpoint') {
      await writeCheckpoint({
        config,
        configSha256: configHash(config),
        chains: chain,
        checkpoints,
        store,
        readObject: async (key) => store.objects.get(key),
        signer,
        clock: () => action.at,
      });
      stats.checkpoints += 1;
      continue;
    }
    const run = action.run;
    if (!run) continue;
    if (action.crash) {
      const faulty = crashing(store, chain, action.crash.at, action.crash.after);
      const attempt = makeEvidenceRecorder({ store: faulty.store, chain: faulty.chain, signer });
      await attempt.record(runOf(run, action.at)).catch((error: unknown) => {
        if (!(error instanceof InjectedCrashError)) throw error;
        stats.crashes += 1;
      });
    }
    await makeEvidenceRecorder({ store, chain, signer }).record(
      runOf(run, new Date(action.at.getTime() + 60_000)),
    );
    stats.runs += 1;
  }
  const files = new Map<string, ArchiveFile>();
  for (const [key, bytes] of store.objects) files.set(key, fileOf(key, bytes));
  const fingerprints = await Promise.all(
    signers.map(async (signer) => (await signer.publicKey()).fingerprint),
  );
  return { files, trustedKeys: fingerprints, controlIds: controls.map((control) => control.id), stats };
}

export function contentsOf(files: ReadonlyMap<string, ArchiveFile>): ArchiveContents {
  return { kind: 'folder', source: 'generated', files: new Map(files), bytes: 0 };
}
