import * as z from 'zod';
import { VERDICTS } from '../controls/outcome.ts';
import type { RunResult } from '../runs/run-record.ts';
import { canonicalJson } from '../shared/canonical-json.ts';
import { CADENCES, nextPeriod, periodFromKey } from '../shared/period.ts';
import { TOOL_VERSION } from '../shared/version.ts';
import type { ChainKind } from './chain-head-store.ts';
import {
  hasKeys,
  isCount,
  isNonEmpty,
  isObject,
  isSha256,
  isString,
  SHA256_PATTERN,
  signingOf,
  toolOf,
} from './json-shape.ts';
import { SIGNATURE_ALGORITHM } from './signer.ts';

export const MANIFEST_KIND = 'soc2-evidence/manifest';
export const MANIFEST_SCHEMA_VERSION = 1;

const sha256Schema = z.string().regex(SHA256_PATTERN, 'expected a lowercase hex SHA-256');
const instantSchema = z.iso.datetime({ offset: true });
/** zod's own pattern for `instantSchema`, so the fast path accepts exactly the instants zod does. */
const INSTANT_PATTERN: RegExp = instantSchema._zod.pattern;

export const manifestArtifactSchema = z.strictObject({
  key: z.string().min(1),
  size: z.number().int().min(0),
  sha256: sha256Schema,
  contentType: z.string().min(1),
});

const databaseIdentitySchema = z.strictObject({
  systemIdentifier: z.string().nullable(),
  serverVersion: z.string(),
  databaseName: z.string(),
  systemIdentifierError: z.string().optional(),
});

/** Where a population came from: enough for an auditor to re-run the query against the same database. */
export const populationProvenanceSchema = z.discriminatedUnion('source', [
  z.strictObject({
    source: z.literal('sql'),
    target: z.string().min(1),
    database: databaseIdentitySchema,
    query: z.string().min(1),
    querySha256: sha256Schema,
    params: z.array(z.unknown()),
    executedAt: instantSchema,
    durationMs: z.number().min(0),
  }),
  z.strictObject({
    source: z.literal('api'),
    service: z.string().min(1),
    operation: z.string().min(1),
    request: z.unknown(),
    executedAt: instantSchema,
  }),
]);

/**
 * One population the run wrote: the artifact (also listed in `artifacts`), how many items it holds,
 * the SHA-256 of its canonical content (the file's bytes), the cap, and the provenance.
 */
export const manifestPopulationSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/),
  description: z.string(),
  key: z.string().min(1),
  rows: z.number().int().min(0),
  sha256: sha256Schema,
  cap: z.strictObject({ limit: z.number().int().min(1), reached: z.boolean() }),
  provenance: populationProvenanceSchema,
});

/** What a manifest records about its predecessor in the same control's chain. */
export const chainLinkSchema = z.strictObject({
  sequence: z.number().int().min(1),
  key: z.string().min(1),
  sha256: sha256Schema,
  /** Base64 DER signature of the predecessor, so re-signing it is detectable too. */
  signature: z.string().min(1),
  periodKey: z.string().min(1),
});

/**
 * One run's manifest: the signed statement "this run, for this control and period, produced these
 * files with these hashes and this verdict, after that manifest". Stored as canonical JSON; the
 * signature covers those exact bytes.
 */
export const manifestSchema = z.strictObject({
  kind: z.literal(MANIFEST_KIND),
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
  control: z.strictObject({
    id: z.string().min(1),
    criteria: z.array(z.string()),
    owner: z.string(),
  }),
  /** The period this run is evidence for. */
  period: z.strictObject({
    cadence: z.enum(CADENCES),
    key: z.string().min(1),
    start: instantSchema,
    end: instantSchema,
    timeZone: z.string().min(1),
  }),
  runId: z.string().min(1),
  verdict: z.enum(VERDICTS),
  reasons: z.array(z.string()),
  warnings: z.array(z.string()),
  figures: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])),
  /** When the run finished collecting. */
  collectedAt: instantSchema,
  /** When this evidence is superseded: the next period closes and its run is due. */
  expiresAt: instantSchema,
  artifacts: z.array(manifestArtifactSchema).min(1),
  /** Absent when the run wrote none (and on manifests from before populations existed). */
  populations: z.array(manifestPopulationSchema).optional(),
  chain: z.strictObject({
    sequence: z.number().int().min(1),
    previous: chainLinkSchema.nullable(),
    /** Absent on the control's scheduled chain; `events` on its event-driven chain (see ChainKind). */
    kind: z.literal('events').optional(),
  }),
  signing: z.strictObject({
    algorithm: z.literal(SIGNATURE_ALGORITHM),
    keyFingerprint: sha256Schema,
    publicKeyKey: z.string().min(1),
  }),
  tool: z.strictObject({ name: z.string(), version: z.string() }),
});

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestArtifact = z.output<typeof manifestArtifactSchema>;
export type ChainLink = z.output<typeof chainLinkSchema>;
export type ManifestPopulation = z.output<typeof manifestPopulationSchema>;

export class ManifestError extends Error {
  override name = 'ManifestError';
}

export interface ManifestInputs {
  readonly run: RunResult;
  readonly timeZone: string;
  readonly artifacts: readonly ManifestArtifact[];
  readonly populations?: readonly ManifestPopulation[];
  readonly sequence: number;
  readonly previous: ChainLink | null;
  /** @default 'scheduled' */
  readonly chainKind?: ChainKind;
  readonly keyFingerprint: string;
  readonly publicKeyKey: string;
}

/** Builds a run's manifest; refuses a run whose period does not match its cadence and time zone. */
export function buildManifest(inputs: ManifestInputs): Manifest {
  const { run, timeZone } = inputs;
  const period = periodFromKey(run.cadence, run.periodKey, timeZone);
  if (period.start.toISOString() !== run.periodStart || period.end.toISOString() !== run.periodEnd) {
    throw new ManifestError(
      `run ${run.runId} claims ${run.periodKey} is ${run.periodStart}..${run.periodEnd}, but in ${timeZone} it is ${period.start.toISOString()}..${period.end.toISOString()}`,
    );
  }
  return {
    kind: MANIFEST_KIND,
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    control: { id: run.controlId, criteria: [...run.criteria], owner: run.owner },
    period: {
      cadence: run.cadence,
      key: run.periodKey,
      start: run.periodStart,
      end: run.periodEnd,
      timeZone,
    },
    runId: run.runId,
    verdict: run.outcome.verdict,
    reasons: [...run.outcome.reasons],
    warnings: [...run.outcome.warnings],
    figures: { ...run.outcome.figures },
    collectedAt: run.finishedAt,
    expiresAt: nextPeriod(period).end.toISOString(),
    artifacts: inputs.artifacts.map((artifact) => ({ ...artifact })),
    ...(inputs.populations && inputs.populations.length > 0
      ? { populations: inputs.populations.map((population) => ({ ...population })) }
      : {}),
    chain: {
      sequence: inputs.sequence,
      previous: inputs.previous,
      ...(inputs.chainKind === 'events' ? { kind: 'events' as const } : {}),
    },
    signing: {
      algorithm: SIGNATURE_ALGORITHM,
      keyFingerprint: inputs.keyFingerprint,
      publicKeyKey: inputs.publicKeyKey,
    },
    tool: { name: 'soc2-evidence', version: TOOL_VERSION },
  };
}

/** The exact bytes that are stored and signed. */
export function serializeManifest(manifest: Manifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

/** Parses stored manifest bytes; the error names the first offending field. */
export function parseManifest(bytes: Uint8Array): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new ManifestError('not JSON', { cause: error });
  }
  const fast = manifestFastPath(json);
  if (fast) return fast;
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestError(
      `not a manifest: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  return parsed.data;
}

/*
 * The fast path. `verify` parses every manifest of an export (thousands); zod's generic object
 * walk, and the JIT work it costs, was most of that phase. This checks the shape a recorder writes
 * by hand and builds the same output zod would (same keys in the schema's order, new objects and
 * arrays, unknown values by reference). It only ever answers "valid, here it is" or "not sure":
 * anything it does not handle (populations, a `__proto__` key, any deviation) goes to zod, which
 * decides and words the error. test/verify/properties/manifest-fast-path.test.ts checks it
 * against zod on generated and mutated manifests.
 */

const isInstant = (value: unknown): value is string => isString(value) && INSTANT_PATTERN.test(value);

function strings(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const item of value) if (!isString(item)) return undefined;
  return value.slice();
}

const CONTROL_KEYS = ['id', 'criteria', 'owner'];
const PERIOD_KEYS = ['cadence', 'key', 'start', 'end', 'timeZone'];
const ARTIFACT_KEYS = ['key', 'size', 'sha256', 'contentType'];
const CHAIN_KEYS = ['sequence', 'previous'];
const LINK_KEYS = ['sequence', 'key', 'sha256', 'signature', 'periodKey'];
const MANIFEST_KEYS = [
  'kind',
  'schemaVersion',
  'control',
  'period',
  'runId',
  'verdict',
  'reasons',
  'warnings',
  'figures',
  'collectedAt',
  'expiresAt',
  'artifacts',
  'chain',
  'signing',
  'tool',
];

function figuresOf(value: unknown): Manifest['figures'] | undefined {
  if (!isObject(value)) return undefined;
  const figures: Manifest['figures'] = {};
  for (const key in value) {
    // zod drops a `__proto__` key from a record's output; leave that, and anything odd, to zod.
    if (key === '__proto__' || !Object.hasOwn(value, key)) return undefined;
    const figure = value[key];
    if (figure !== null && typeof figure !== 'string' && typeof figure !== 'boolean') {
      if (typeof figure !== 'number' || !Number.isFinite(figure)) return undefined;
    }
    figures[key] = figure as Manifest['figures'][string];
  }
  return figures;
}

function artifactsOf(value: unknown): Manifest['artifacts'] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const artifacts: Manifest['artifacts'] = [];
  for (const item of value) {
    if (!isObject(item) || !hasKeys(item, ARTIFACT_KEYS)) return undefined;
    const { key, size, sha256, contentType } = item;
    if (!isNonEmpty(key) || !isCount(size, 0) || !isSha256(sha256) || !isNonEmpty(contentType))
      return undefined;
    artifacts.push({ key, size, sha256, contentType });
  }
  return artifacts;
}

function chainOf(value: unknown): Manifest['chain'] | undefined {
  if (!isObject(value) || !hasKeys(value, CHAIN_KEYS, 'kind')) return undefined;
  const { sequence, previous, kind } = value;
  if (!isCount(sequence, 1)) return undefined;
  if (kind !== undefined && kind !== 'events') return undefined;
  let link: ChainLink | null = null;
  if (previous !== null) {
    if (!isObject(previous) || !hasKeys(previous, LINK_KEYS)) return undefined;
    const { sequence: linkSequence, key, sha256, signature, periodKey } = previous;
    if (
      !isCount(linkSequence, 1) ||
      !isNonEmpty(key) ||
      !isSha256(sha256) ||
      !isNonEmpty(signature) ||
      !isNonEmpty(periodKey)
    )
      return undefined;
    link = { sequence: linkSequence, key, sha256, signature, periodKey };
  }
  return kind === undefined ? { sequence, previous: link } : { sequence, previous: link, kind };
}

/**
 * What `manifestSchema` would return for `json`, or undefined when this fast path does not handle
 * it (then only zod decides). Exported for the differential test; use {@link parseManifest}.
 */
export function manifestFastPath(json: unknown): Manifest | undefined {
  if (!isObject(json) || !hasKeys(json, MANIFEST_KEYS)) return undefined;
  if (json.kind !== MANIFEST_KIND || json.schemaVersion !== MANIFEST_SCHEMA_VERSION) return undefined;
  const { control, period, signing, tool, runId, verdict, collectedAt, expiresAt } = json;
  if (!isObject(control) || !hasKeys(control, CONTROL_KEYS)) return undefined;
  const criteria = strings(control.criteria);
  if (!isNonEmpty(control.id) || !criteria || !isString(control.owner)) return undefined;
  if (!isObject(period) || !hasKeys(period, PERIOD_KEYS)) return undefined;
  const { cadence, key, start, end, timeZone } = period;
  if (!CADENCES.includes(cadence as (typeof CADENCES)[number]) || !isNonEmpty(key)) return undefined;
  if (!isInstant(start) || !isInstant(end) || !isNonEmpty(timeZone)) return undefined;
  if (!isNonEmpty(runId) || !VERDICTS.includes(verdict as (typeof VERDICTS)[number])) return undefined;
  const reasons = strings(json.reasons);
  const warnings = strings(json.warnings);
  const figures = figuresOf(json.figures);
  if (!reasons || !warnings || !figures || !isInstant(collectedAt) || !isInstant(expiresAt)) return undefined;
  const artifacts = artifactsOf(json.artifacts);
  const chain = chainOf(json.chain);
  if (!artifacts || !chain) return undefined;
  const signingBlock = signingOf(signing);
  const toolBlock = toolOf(tool);
  if (!signingBlock || !toolBlock) return undefined;
  return {
    kind: MANIFEST_KIND,
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    control: { id: control.id, criteria, owner: control.owner },
    period: { cadence: cadence as Manifest['period']['cadence'], key, start, end, timeZone },
    runId,
    verdict: verdict as Manifest['verdict'],
    reasons,
    warnings,
    figures,
    collectedAt,
    expiresAt,
    artifacts,
    chain,
    signing: signingBlock,
    tool: toolBlock,
  };
}
