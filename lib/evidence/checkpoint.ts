import * as z from 'zod';
import { canonicalJson, sha256Hex } from '../shared/canonical-json.ts';
import { CADENCES } from '../shared/period.ts';
import { TOOL_VERSION } from '../shared/version.ts';
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

/**
 * Signed checkpoints, in the manner of CloudTrail's digest files: the system (a role that may sign,
 * never the exporter or the auditor) writes one on a fixed schedule, and even when nothing changed.
 * Each states every configured control with its chain heads and the manifests added to each chain
 * since the previous checkpoint, the control's `addedOn`, the config's hash, and the previous
 * checkpoint's hash and signature. So nothing that a checkpoint saw can later be dropped unnoticed:
 * not a control, not a chain's tail, not a manifest, not a checkpoint.
 *
 * ```
 * checkpoints/<yyyymmddThhmmssZ>.json   {"checkpoint": {...}, "signature": "<base64 DER ECDSA>"}
 * ```
 * The signature covers the canonical JSON of `checkpoint` (sorted keys, no whitespace; `jq -cS
 * .checkpoint` reproduces it). Checkpoint and signature are one object, so a crash can never leave
 * one without the other. Outside `evidence/`, so a lifecycle rule for evidence never archives them.
 */
export const CHECKPOINTS_PREFIX = 'checkpoints/';
export const CHECKPOINT_KIND = 'soc2-evidence/checkpoint';
/** Checkpoints are written at least daily; an export's newest one older than this is stale. */
export const CHECKPOINT_MAX_AGE_MS = 36 * 60 * 60 * 1000;

const sha256Schema = z.string().regex(SHA256_PATTERN, 'expected a lowercase hex SHA-256');
const instantSchema = z.iso.datetime({ offset: true });
const daySchema = z.iso.date();
/** zod's own patterns, so the fast path accepts exactly the instants and days zod does. */
const INSTANT_PATTERN: RegExp = instantSchema._zod.pattern;
const DAY_PATTERN: RegExp = daySchema._zod.pattern;

export const listedManifestSchema = z.strictObject({
  sequence: z.number().int().min(1),
  key: z.string().min(1),
  sha256: sha256Schema,
  periodKey: z.string().min(1),
});

export const checkpointChainSchema = z.strictObject({
  kind: z.enum(['scheduled', 'events']),
  /** The period cadence of this chain's manifests (an `events` chain is keyed by day). */
  cadence: z.enum(CADENCES),
  /** The newest manifest on the chain, or null when the chain has none yet. */
  head: listedManifestSchema.nullable(),
  /** Every manifest added since the previous checkpoint, oldest first (the head included). */
  added: z.array(listedManifestSchema),
});

export const checkpointControlSchema = z.strictObject({
  id: z.string().min(1),
  cadence: z.enum(CADENCES),
  /** First day the control is in force: a manifest is owed for every period since. */
  addedOn: daySchema,
  chains: z.array(checkpointChainSchema),
});

/**
 * A sign-off chain (risk register, a control's reviews, a document's reviews): not a control, owes
 * no period here, but once a checkpoint lists its manifests, deleting one is a named problem.
 */
export const checkpointSignOffChainSchema = z.strictObject({
  /** The chain id, which is the manifests' control id (e.g. `access-review.review`). */
  id: z.string().min(1),
  cadence: z.enum(CADENCES),
  head: listedManifestSchema.nullable(),
  added: z.array(listedManifestSchema),
});

export const checkpointLinkSchema = z.strictObject({
  sequence: z.number().int().min(1),
  key: z.string().min(1),
  /** SHA-256 of the previous checkpoint object's bytes. */
  sha256: sha256Schema,
  signature: z.string().min(1),
});

export const checkpointSchema = z.strictObject({
  kind: z.literal(CHECKPOINT_KIND),
  schemaVersion: z.literal(1),
  sequence: z.number().int().min(1),
  writtenAt: instantSchema,
  timeZone: z.string().min(1),
  /** SHA-256 of the canonical JSON of the loaded config. */
  configSha256: sha256Schema,
  previous: checkpointLinkSchema.nullable(),
  controls: z.array(checkpointControlSchema),
  /** Absent when the deployment has no sign-off chain (and on checkpoints written before them). */
  signOffs: z.array(checkpointSignOffChainSchema).optional(),
  signing: z.strictObject({
    algorithm: z.literal(SIGNATURE_ALGORITHM),
    keyFingerprint: sha256Schema,
    publicKeyKey: z.string().min(1),
  }),
  tool: z.strictObject({ name: z.string(), version: z.string() }),
});

export const signedCheckpointSchema = z.strictObject({
  checkpoint: checkpointSchema,
  signature: z.string().min(1),
});

export type Checkpoint = z.output<typeof checkpointSchema>;
export type CheckpointControl = z.output<typeof checkpointControlSchema>;
export type CheckpointChain = z.output<typeof checkpointChainSchema>;
export type CheckpointLink = z.output<typeof checkpointLinkSchema>;
export type CheckpointSignOffChain = z.output<typeof checkpointSignOffChainSchema>;
export type ListedManifest = z.output<typeof listedManifestSchema>;
export type SignedCheckpoint = z.output<typeof signedCheckpointSchema>;

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** `checkpoints/20261201T000000Z.json`: keys sort in time order. */
export function checkpointKey(writtenAt: Date): string {
  const compact = writtenAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `${CHECKPOINTS_PREFIX}${compact}.json`;
}

const KEY_PATTERN = /^checkpoints\/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.json$/;

/** The time a checkpoint key names, or undefined for anything else. */
export function parseCheckpointKey(key: string): Date | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The exact bytes that are signed. */
export function checkpointSigningBytes(checkpoint: Checkpoint): Buffer {
  return Buffer.from(canonicalJson(checkpoint), 'utf8');
}

/** The stored object: checkpoint and signature together. */
export function serializeSignedCheckpoint(signed: SignedCheckpoint): Buffer {
  return Buffer.from(`${canonicalJson(signed)}\n`, 'utf8');
}

/**
 * {@link serializeSignedCheckpoint} from the checkpoint's {@link checkpointSigningBytes}, which a
 * verifier has computed already: the canonical JSON of a year's checkpoint is not built twice.
 * Same bytes: `checkpoint` sorts before `signature`, and a nested object serialises as it does alone.
 */
export function signedCheckpointBytes(signingBytes: Buffer, signature: string): Buffer {
  return Buffer.concat([
    Buffer.from('{"checkpoint":', 'utf8'),
    signingBytes,
    Buffer.from(`,"signature":${JSON.stringify(signature)}}\n`, 'utf8'),
  ]);
}

export function parseSignedCheckpoint(bytes: Uint8Array): SignedCheckpoint {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new CheckpointError('not JSON', { cause: error });
  }
  const fast = signedCheckpointFastPath(json);
  if (fast) return fast;
  const parsed = signedCheckpointSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError(
      `not a checkpoint: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  return parsed.data;
}

/** What a checkpoint needs to know about the config. */
export interface CheckpointConfig {
  readonly timeZone: string;
  readonly controls: readonly {
    readonly id: string;
    readonly cadence: (typeof CADENCES)[number];
    readonly addedOn?: string | undefined;
  }[];
}

export function configHash(config: unknown): string {
  return sha256Hex(canonicalJson(config));
}

export interface CheckpointInputs {
  readonly config: CheckpointConfig;
  readonly configSha256: string;
  readonly writtenAt: Date;
  readonly previous?: { readonly key: string; readonly sha256: string; readonly signed: SignedCheckpoint };
  /** Per control: its chains as they stand now, with the manifests added since `previous`. */
  readonly chains: ReadonlyMap<string, readonly CheckpointChain[]>;
  /** The sign-off chains as they stand now. @default none (the field is then left out) */
  readonly signOffs?: readonly CheckpointSignOffChain[];
  readonly keyFingerprint: string;
  readonly publicKeyKey: string;
}

/**
 * A control's `addedOn`: the config's date, else the date the previous checkpoint recorded, else the
 * day of this checkpoint (the first one that saw the control). Never later than an earlier
 * checkpoint said, so editing the config cannot shrink the periods a control owes.
 */
export function addedOnFor(
  control: CheckpointConfig['controls'][number],
  previous: Checkpoint | undefined,
  writtenAt: Date,
): string {
  const before = previous?.controls.find((entry) => entry.id === control.id)?.addedOn;
  const candidates = [control.addedOn, before].filter((value): value is string => Boolean(value));
  return candidates.sort()[0] ?? writtenAt.toISOString().slice(0, 10);
}

export function buildCheckpoint(inputs: CheckpointInputs): Checkpoint {
  const previous = inputs.previous?.signed.checkpoint;
  return {
    kind: CHECKPOINT_KIND,
    schemaVersion: 1,
    sequence: (previous?.sequence ?? 0) + 1,
    writtenAt: inputs.writtenAt.toISOString(),
    timeZone: inputs.config.timeZone,
    configSha256: inputs.configSha256,
    previous: inputs.previous
      ? {
          sequence: inputs.previous.signed.checkpoint.sequence,
          key: inputs.previous.key,
          sha256: inputs.previous.sha256,
          signature: inputs.previous.signed.signature,
        }
      : null,
    controls: [...inputs.config.controls]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((control) => ({
        id: control.id,
        cadence: control.cadence,
        addedOn: addedOnFor(control, previous, inputs.writtenAt),
        chains: [...(inputs.chains.get(control.id) ?? [])],
      })),
    ...(inputs.signOffs && inputs.signOffs.length > 0
      ? { signOffs: [...inputs.signOffs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) }
      : {}),
    signing: {
      algorithm: SIGNATURE_ALGORITHM,
      keyFingerprint: inputs.keyFingerprint,
      publicKeyKey: inputs.publicKeyKey,
    },
    tool: { name: 'soc2-evidence', version: TOOL_VERSION },
  };
}

/*
 * The fast path, as for manifests (see manifestFastPath): a year's checkpoint lists every manifest
 * of the year, and zod's generic walk of it was most of the checkpoint phase. It answers "valid,
 * here is what zod would return" (same keys in the schema's order, new objects and arrays) or "not
 * sure"; sign-off chains and anything unusual go to zod, which decides and words the error.
 * test/verify/properties/checkpoint-fast-path.test.ts checks it against zod.
 */

const isCadence = (value: unknown): value is (typeof CADENCES)[number] =>
  CADENCES.includes(value as (typeof CADENCES)[number]);

const LISTED_KEYS = ['sequence', 'key', 'sha256', 'periodKey'];
const CHAIN_KEYS = ['kind', 'cadence', 'head', 'added'];
const CONTROL_KEYS = ['id', 'cadence', 'addedOn', 'chains'];
const LINK_KEYS = ['sequence', 'key', 'sha256', 'signature'];
const CHECKPOINT_KEYS = [
  'kind',
  'schemaVersion',
  'sequence',
  'writtenAt',
  'timeZone',
  'configSha256',
  'previous',
  'controls',
  'signing',
  'tool',
];

function listedOf(value: unknown): ListedManifest | undefined {
  if (!isObject(value) || !hasKeys(value, LISTED_KEYS)) return undefined;
  const { sequence, key, sha256, periodKey } = value;
  if (!isCount(sequence, 1) || !isNonEmpty(key) || !isSha256(sha256) || !isNonEmpty(periodKey))
    return undefined;
  return { sequence, key, sha256, periodKey };
}

function chainOf(value: unknown): CheckpointChain | undefined {
  if (!isObject(value) || !hasKeys(value, CHAIN_KEYS)) return undefined;
  const { kind, cadence, head, added } = value;
  if ((kind !== 'scheduled' && kind !== 'events') || !isCadence(cadence) || !Array.isArray(added))
    return undefined;
  let listedHead: ListedManifest | null = null;
  if (head !== null) {
    const parsed = listedOf(head);
    if (!parsed) return undefined;
    listedHead = parsed;
  }
  const list: ListedManifest[] = [];
  for (const item of added) {
    const parsed = listedOf(item);
    if (!parsed) return undefined;
    list.push(parsed);
  }
  return { kind, cadence, head: listedHead, added: list };
}

function controlOf(value: unknown): CheckpointControl | undefined {
  if (!isObject(value) || !hasKeys(value, CONTROL_KEYS)) return undefined;
  const { id, cadence, addedOn, chains } = value;
  if (!isNonEmpty(id) || !isCadence(cadence) || !isString(addedOn) || !DAY_PATTERN.test(addedOn))
    return undefined;
  if (!Array.isArray(chains)) return undefined;
  const list: CheckpointChain[] = [];
  for (const item of chains) {
    const chain = chainOf(item);
    if (!chain) return undefined;
    list.push(chain);
  }
  return { id, cadence, addedOn, chains: list };
}

/**
 * What `signedCheckpointSchema` would return for `json`, or undefined when this fast path does not
 * handle it (then only zod decides). Exported for the differential test; use {@link parseSignedCheckpoint}.
 */
export function signedCheckpointFastPath(json: unknown): SignedCheckpoint | undefined {
  if (!isObject(json) || !hasKeys(json, ['checkpoint', 'signature'])) return undefined;
  const { checkpoint, signature } = json;
  if (!isNonEmpty(signature) || !isObject(checkpoint) || !hasKeys(checkpoint, CHECKPOINT_KEYS))
    return undefined;
  const { kind, schemaVersion, sequence, writtenAt, timeZone, configSha256, previous, signing, tool } =
    checkpoint;
  if (kind !== CHECKPOINT_KIND || schemaVersion !== 1 || !isCount(sequence, 1)) return undefined;
  if (!isString(writtenAt) || !INSTANT_PATTERN.test(writtenAt) || !isNonEmpty(timeZone)) return undefined;
  if (!isSha256(configSha256)) return undefined;
  let link: CheckpointLink | null = null;
  if (previous !== null) {
    if (!isObject(previous) || !hasKeys(previous, LINK_KEYS)) return undefined;
    const { sequence: linkSequence, key, sha256, signature: linkSignature } = previous;
    if (!isCount(linkSequence, 1) || !isNonEmpty(key) || !isSha256(sha256) || !isNonEmpty(linkSignature))
      return undefined;
    link = { sequence: linkSequence, key, sha256, signature: linkSignature };
  }
  if (!Array.isArray(checkpoint.controls)) return undefined;
  const controls: CheckpointControl[] = [];
  for (const item of checkpoint.controls) {
    const control = controlOf(item);
    if (!control) return undefined;
    controls.push(control);
  }
  const signingBlock = signingOf(signing);
  const toolBlock = toolOf(tool);
  if (!signingBlock || !toolBlock) return undefined;
  return {
    checkpoint: {
      kind: CHECKPOINT_KIND,
      schemaVersion: 1,
      sequence,
      writtenAt,
      timeZone,
      configSha256,
      previous: link,
      controls,
      signing: signingBlock,
      tool: toolBlock,
    },
    signature,
  };
}
