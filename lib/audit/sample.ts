import { createHash, createHmac, type KeyObject } from 'node:crypto';
import { DateTime } from 'luxon';
import { RUNS_POPULATION } from '../controls/population.ts';
import { MANIFEST_FILE, publicKeyKey, RESULT_FILE, signatureKeyFor } from '../evidence/evidence-layout.ts';
import { EVIDENCE_PREFIX } from '../evidence/evidence-recorder.ts';
import { type Manifest, parseManifest } from '../evidence/manifest.ts';
import { parsePublicKey, publicKeyInfo } from '../evidence/signer.ts';
import { verifySignature } from '../evidence/verify-signature.ts';
import { canonicalJson, sha256Hex } from '../shared/canonical-json.ts';
import {
  DuplicateItemError,
  offerStream,
  PopulationLineError,
  PopulationRanker,
  parseLineId,
  type RankedItem,
} from './sample-ranking.ts';
import { type SampleSizeTable, sampleSizeFor } from './sample-size.ts';
import type { EvidenceSource } from './sample-source.ts';

/** Everything `sample` and `sample --check` can find wrong, one code per kind. */
export type SampleProblemCode =
  | 'no-runs'
  | 'manifest-unreadable'
  | 'signature-missing'
  | 'signature-invalid'
  | 'key-unknown'
  | 'key-untrusted'
  | 'population-missing'
  | 'population-altered'
  | 'population-duplicate-id'
  | 'sample-unreadable'
  | 'sources-changed'
  | 'size-altered'
  | 'selection-altered'
  | 'items-altered';

/** A sample cannot be drawn or confirmed; `code` names why. */
export class SampleProblemError extends Error {
  override name = 'SampleProblemError';
  constructor(
    readonly code: SampleProblemCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const SAMPLE_METHOD = {
  ordering: 'HMAC-SHA256',
  key: 'the seed, as UTF-8 bytes',
  message: '"<periodKey>/<item id>", UTF-8',
  take: 'the first N items by ascending hex digest (ties, impossible for distinct ids, by id)',
} as const;

/** One signed run whose population is part of the sample's population. */
export interface SampleSource {
  readonly periodKey: string;
  readonly runId: string;
  readonly manifestKey: string;
  readonly manifestSha256: string;
  readonly keyFingerprint: string;
  /** Absent for `runs`, which is derived from the manifests themselves. */
  readonly populationKey?: string;
  readonly populationSha256: string;
  readonly rows: number;
}

export interface SelectedItem {
  readonly id: string;
  readonly periodKey: string;
  readonly itemId: string;
  readonly hmac: string;
}

export interface SampleRequest {
  readonly controlId: string;
  readonly population: string;
  /** First and last day (YYYY-MM-DD, in each manifest's time zone) of the periods sampled. */
  readonly from: string;
  readonly to: string;
  readonly seed: string;
  /** Overrides the table. */
  readonly size?: number;
  readonly table: SampleSizeTable;
  /** Pinned key fingerprints; manifests signed by any other key are refused. */
  readonly trustedKeys?: readonly string[];
}

export interface SampleResult {
  readonly request: SampleRequest;
  readonly timeZone: string;
  readonly populationSize: number;
  readonly size: { readonly n: number; readonly rule: string };
  readonly sources: readonly SampleSource[];
  /** SHA-256 over the sources' population hashes in period order: one figure for the whole population. */
  readonly populationSha256: string;
  readonly selected: readonly SelectedItem[];
  /** The selected items' lines, byte for byte as in the signed population, in selection order. */
  readonly lines: readonly string[];
  /** Every evidence key the sample rests on (manifests, signatures, results, populations, keys). */
  readonly evidenceKeys: readonly string[];
}

export interface SampleHooks {
  /** Receives every byte of each population file as it is streamed (to copy it beside the sample). */
  readonly onPopulationChunk?: (key: string, chunk: Buffer) => void | Promise<void>;
}

interface SignedRun {
  readonly manifestKey: string;
  readonly manifestSha256: string;
  readonly manifest: Manifest;
}

function rangeBounds(from: string, to: string, timeZone: string): { start: number; end: number } {
  const start = DateTime.fromISO(from, { zone: timeZone }).startOf('day');
  const end = DateTime.fromISO(to, { zone: timeZone }).startOf('day').plus({ days: 1 });
  return { start: start.toMillis(), end: end.toMillis() };
}

/**
 * The control's signed runs whose period lies wholly in [from, to]: each manifest's signature is
 * checked against the published key (and the pinned ones), and per period the scheduled chain's
 * newest manifest is the run that counts (the one the period's verdict comes from).
 */
async function signedRuns(source: EvidenceSource, request: SampleRequest): Promise<SignedRun[]> {
  const keys = new Map<string, KeyObject>();
  const keyOf = async (fingerprint: string, manifestKey: string) => {
    const known = keys.get(fingerprint);
    if (known) return known;
    let key: KeyObject;
    try {
      key = parsePublicKey((await source.getBytes(publicKeyKey(fingerprint))).toString('utf8'));
    } catch (error) {
      throw new SampleProblemError(
        'key-unknown',
        `${manifestKey} is signed by key ${fingerprint.slice(0, 16)}…, whose public key cannot be read`,
        { cause: error },
      );
    }
    if (publicKeyInfo(key).fingerprint !== fingerprint)
      throw new SampleProblemError(
        'key-unknown',
        `${publicKeyKey(fingerprint)} holds another key than its name says`,
      );
    keys.set(fingerprint, key);
    return key;
  };
  const trusted = request.trustedKeys
    ? new Set(request.trustedKeys.map((key) => key.toLowerCase()))
    : undefined;
  const newest = new Map<string, SignedRun>();
  for await (const object of source.listObjects(`${EVIDENCE_PREFIX}${request.controlId}/`)) {
    if (!object.key.endsWith(`/${MANIFEST_FILE}`)) continue;
    const bytes = await source.getBytes(object.key);
    let manifest: Manifest;
    try {
      manifest = parseManifest(bytes);
    } catch (error) {
      throw new SampleProblemError('manifest-unreadable', `${object.key}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (manifest.chain.kind === 'events' || manifest.control.id !== request.controlId) continue;
    const bounds = rangeBounds(request.from, request.to, manifest.period.timeZone);
    if (Date.parse(manifest.period.start) < bounds.start || Date.parse(manifest.period.end) > bounds.end)
      continue;
    let signature: Buffer;
    try {
      signature = await source.getBytes(signatureKeyFor(object.key));
    } catch (error) {
      throw new SampleProblemError(
        'signature-missing',
        `${object.key} has no ${signatureKeyFor(object.key)}`,
        {
          cause: error,
        },
      );
    }
    const fingerprint = manifest.signing.keyFingerprint;
    const key = await keyOf(fingerprint, object.key);
    if (!verifySignature(bytes, Buffer.from(signature.toString('utf8').trim(), 'base64'), key))
      throw new SampleProblemError(
        'signature-invalid',
        `${object.key}: the signature does not match the manifest: the manifest or its signature was altered`,
      );
    if (trusted && !trusted.has(fingerprint))
      throw new SampleProblemError(
        'key-untrusted',
        `${object.key} is signed by key ${fingerprint.slice(0, 16)}…, which is not a trusted key`,
      );
    const there = newest.get(manifest.period.key);
    if (!there || there.manifest.chain.sequence < manifest.chain.sequence)
      newest.set(manifest.period.key, {
        manifestKey: object.key,
        manifestSha256: sha256Hex(bytes),
        manifest,
      });
  }
  const runs = [...newest.values()].sort(
    (a, b) => Date.parse(a.manifest.period.start) - Date.parse(b.manifest.period.start),
  );
  if (runs.length === 0)
    throw new SampleProblemError(
      'no-runs',
      `no signed run of ${request.controlId} has a period inside ${request.from}..${request.to}`,
    );
  return runs;
}

/** The digest that orders an item: HMAC-SHA256 keyed by the seed over "<periodKey>/<item id>". */
export function itemDigest(seed: string, qualifiedId: string): string {
  return createHmac('sha256', seed).update(qualifiedId, 'utf8').digest('hex');
}

/** The ranker's errors as the sample's named problems; anything else unchanged. */
function asSampleProblem(error: unknown): unknown {
  if (error instanceof PopulationLineError)
    return new SampleProblemError('population-altered', error.message, { cause: error.cause });
  if (error instanceof DuplicateItemError)
    return new SampleProblemError('population-duplicate-id', error.message, { cause: error });
  return error;
}

function runsPopulationLines(runs: readonly SignedRun[]): string[] {
  return runs.map(
    ({ manifest, manifestKey, manifestSha256 }) =>
      `${canonicalJson({
        id: manifest.runId,
        periodKey: manifest.period.key,
        periodStart: manifest.period.start,
        periodEnd: manifest.period.end,
        verdict: manifest.verdict,
        collectedAt: manifest.collectedAt,
        manifestKey,
        manifestSha256,
      })}\n`,
  );
}

/**
 * Draws the sample: the signed runs of the control in the range, their population `name` (or the
 * runs themselves for `runs`), each streamed once and checked against the hash and row count in its
 * signed manifest while every item is ranked by {@link itemDigest}; the first N are the sample.
 * Memory holds N items and one chunk, whatever the population's size.
 */
export async function drawSample(
  source: EvidenceSource,
  request: SampleRequest,
  hooks: SampleHooks = {},
): Promise<SampleResult> {
  const runs = await signedRuns(source, request);
  const timeZone = runs[0]?.manifest.period.timeZone ?? 'UTC';
  const evidenceKeys = new Set<string>();
  for (const run of runs) {
    evidenceKeys.add(run.manifestKey);
    evidenceKeys.add(signatureKeyFor(run.manifestKey));
    evidenceKeys.add(publicKeyKey(run.manifest.signing.keyFingerprint));
    const result = run.manifest.artifacts.find((artifact) => artifact.key.endsWith(`/${RESULT_FILE}`));
    if (result) evidenceKeys.add(result.key);
  }

  const isRuns = request.population === RUNS_POPULATION;
  const plan = runs.map((run) => {
    if (isRuns) return { run, population: undefined };
    const population = run.manifest.populations?.find((candidate) => candidate.name === request.population);
    if (!population)
      throw new SampleProblemError(
        'population-missing',
        `${run.manifestKey} (period ${run.manifest.period.key}) lists no population "${request.population}"${
          run.manifest.populations?.length
            ? `; it lists ${run.manifest.populations.map((p) => p.name).join(', ')}`
            : ''
        }`,
      );
    return { run, population };
  });
  const populationSize = isRuns
    ? runs.length
    : plan.reduce((sum, step) => sum + (step.population?.rows ?? 0), 0);
  const cadence = runs[0]?.manifest.period.cadence ?? 'monthly';
  const chosen =
    request.size !== undefined
      ? { size: Math.min(request.size, populationSize), rule: `--size ${request.size}` }
      : sampleSizeFor(
          populationSize,
          request.table,
          isRuns ? { kind: 'frequency', cadence } : { kind: 'population' },
        );
  const ranker = new PopulationRanker(request.seed, chosen.size);
  const sources: SampleSource[] = [];

  for (const { run, population } of plan) {
    const periodKey = run.manifest.period.key;
    ranker.startPeriod(periodKey);
    const base = {
      periodKey,
      runId: run.manifest.runId,
      manifestKey: run.manifestKey,
      manifestSha256: run.manifestSha256,
      keyFingerprint: run.manifest.signing.keyFingerprint,
    };
    if (!population) {
      const line = runsPopulationLines([run])[0] ?? '';
      try {
        ranker.offerLine(line, parseLineId(line, run.manifestKey));
      } catch (error) {
        throw asSampleProblem(error);
      }
      sources.push({ ...base, populationSha256: sha256Hex(line), rows: 1 });
      continue;
    }
    evidenceKeys.add(population.key);
    const hash = createHash('sha256');
    const stream = await source.getStream(population.key).catch((error: unknown) => {
      throw new SampleProblemError('population-missing', `${population.key} cannot be read`, {
        cause: error,
      });
    });
    let streamed: { rows: number; unterminated: boolean };
    try {
      streamed = await offerStream(ranker, stream, population.key, async (chunk) => {
        hash.update(chunk);
        await hooks.onPopulationChunk?.(population.key, chunk);
      });
    } catch (error) {
      throw asSampleProblem(error);
    }
    const { rows, unterminated } = streamed;
    const sha256 = hash.digest('hex');
    if (unterminated || sha256 !== population.sha256 || rows !== population.rows)
      throw new SampleProblemError(
        'population-altered',
        `population ${population.name} of ${periodKey} (${population.key}): ${rows} lines${unterminated ? ' and an unterminated one' : ''}, SHA-256 ${sha256.slice(0, 16)}…, but its signed manifest seals ${population.rows} items, ${population.sha256.slice(0, 16)}…: a line was changed, added or removed`,
      );
    sources.push({ ...base, populationKey: population.key, populationSha256: sha256, rows });
  }

  let picked: RankedItem[];
  try {
    picked = ranker.sorted();
  } catch (error) {
    throw asSampleProblem(error);
  }
  return {
    request,
    timeZone,
    populationSize,
    size: { n: chosen.size, rule: chosen.rule },
    sources,
    populationSha256: sha256Hex(sources.map((s) => s.populationSha256).join('\n')),
    selected: picked.map(({ id, periodKey, itemId, hmac }) => ({ id, periodKey, itemId, hmac })),
    lines: picked.map((entry) => entry.line),
    evidenceKeys: [...evidenceKeys].sort(),
  };
}
