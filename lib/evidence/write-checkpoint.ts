import { sha256Hex } from '../shared/canonical-json.ts';
import { CHAIN_KINDS, type ChainHead, type ChainHeadStore } from './chain-head-store.ts';
import {
  buildCheckpoint,
  type CheckpointChain,
  type CheckpointConfig,
  CheckpointError,
  type CheckpointSignOffChain,
  checkpointKey,
  checkpointSigningBytes,
  type ListedManifest,
  parseCheckpointKey,
  parseSignedCheckpoint,
  type SignedCheckpoint,
  serializeSignedCheckpoint,
} from './checkpoint.ts';
import {
  CheckpointConflictError,
  type CheckpointHead,
  type CheckpointHeadStore,
} from './checkpoint-head-store.ts';
import { publicKeyKey } from './evidence-layout.ts';
import type { EvidenceObjectStore } from './evidence-object-store.ts';
import { parseManifest } from './manifest.ts';
import { sealHead } from './record-evidence.ts';
import type { ManifestSigner } from './signer.ts';

export { CheckpointConflictError, type CheckpointHead, type CheckpointHeadStore };

export function makeMemoryCheckpointHeads(): CheckpointHeadStore {
  let head: CheckpointHead | undefined;
  return {
    async read() {
      return head;
    },
    async advance(next, expectedSequence) {
      if ((head?.sequence ?? 0) !== expectedSequence) {
        throw new CheckpointConflictError(
          `checkpoint head is at ${head?.sequence ?? 0}, expected ${expectedSequence}`,
        );
      }
      head = next;
    },
  };
}

export interface CheckpointDeps {
  readonly config: CheckpointConfig;
  /** SHA-256 of the loaded config (see `configHash`). */
  readonly configSha256: string;
  readonly chains: ChainHeadStore;
  readonly checkpoints: CheckpointHeadStore;
  readonly store: EvidenceObjectStore;
  /** Reads a stored evidence object; undefined when it does not exist. */
  readObject(key: string): Promise<Buffer | undefined>;
  readonly signer: ManifestSigner;
  readonly clock?: () => Date;
  /**
   * The sign-off chains the config declares (risk register, control reviews, documents). Each is
   * listed once it has a head; one an earlier checkpoint listed stays listed even if the config
   * drops it, so no sign-off a checkpoint saw can disappear unnoticed. @default none
   */
  readonly signOffChains?: readonly {
    readonly id: string;
    readonly cadence: CheckpointSignOffChain['cadence'];
  }[];
}

export interface CheckpointWritten {
  readonly key: string;
  readonly sequence: number;
  readonly controls: number;
  /** Sign-off chains listed (with a head, or listed before). */
  readonly signOffChains: number;
  /** Manifests listed as added since the previous checkpoint, over all chains. */
  readonly added: number;
}

const JSON_TYPE = 'application/json';

/** Walks a chain back from its head to the manifest after `sinceSequence`, oldest first. */
async function addedSince(
  deps: CheckpointDeps,
  head: ListedManifest & { readonly manifest?: string },
  sinceSequence: number,
): Promise<ListedManifest[]> {
  const added: ListedManifest[] = [];
  let cursor: ListedManifest | undefined = head;
  let bytes: Buffer | undefined =
    head.manifest !== undefined ? Buffer.from(head.manifest, 'utf8') : undefined;
  while (cursor && cursor.sequence > sinceSequence) {
    added.push({
      sequence: cursor.sequence,
      key: cursor.key,
      sha256: cursor.sha256,
      periodKey: cursor.periodKey,
    });
    bytes ??= await deps.readObject(cursor.key);
    if (!bytes)
      throw new CheckpointError(`${cursor.key} (sequence ${cursor.sequence}) is missing from the bucket`);
    if (sha256Hex(bytes) !== cursor.sha256) {
      throw new CheckpointError(
        `${cursor.key} does not have the SHA-256 its successor or the chain head recorded`,
      );
    }
    const previous = parseManifest(bytes).chain.previous;
    cursor = previous
      ? {
          sequence: previous.sequence,
          key: previous.key,
          sha256: previous.sha256,
          periodKey: previous.periodKey,
        }
      : undefined;
    bytes = undefined;
  }
  return added.reverse();
}

/** A chain as a checkpoint lists it: its head, and the manifests added since `sinceSequence`. */
async function listChain(
  deps: CheckpointDeps,
  chainHead: ChainHead,
  sinceSequence: number,
): Promise<{ listedHead: ListedManifest; added: ListedManifest[] }> {
  const listedHead: ListedManifest = {
    sequence: chainHead.sequence,
    key: chainHead.manifestKey,
    sha256: chainHead.manifestSha256,
    periodKey: chainHead.periodKey,
  };
  const added = await addedSince(
    deps,
    { ...listedHead, ...(chainHead.manifest !== undefined ? { manifest: chainHead.manifest } : {}) },
    sinceSequence,
  );
  return { listedHead, added };
}

/**
 * Writes the next signed checkpoint, whether or not anything changed since the last one: every
 * configured control, each of its chains' heads and the manifests added to them since, `addedOn`,
 * the config's hash, and the previous checkpoint's hash and signature. Before reading the heads it
 * seals any head a crashed run left without its manifest objects, so everything it lists exists.
 * Like manifests, the checkpoint head advances first (carrying the object's bytes) and the object is
 * written after; a crash in between is repaired by the next call.
 */
export async function writeCheckpoint(deps: CheckpointDeps): Promise<CheckpointWritten> {
  const clock = deps.clock ?? (() => new Date());
  const head = await deps.checkpoints.read();
  if (head) await deps.store.putOnce(head.key, Buffer.from(head.body, 'utf8'), JSON_TYPE);
  const previous: SignedCheckpoint | undefined = head
    ? parseSignedCheckpoint(Buffer.from(head.body, 'utf8'))
    : undefined;

  const info = await deps.signer.publicKey();
  await deps.store.putOnce(
    publicKeyKey(info.fingerprint),
    Buffer.from(info.pem, 'utf8'),
    'application/x-pem-file',
  );

  const chains = new Map<string, CheckpointChain[]>();
  let addedCount = 0;
  for (const control of deps.config.controls) {
    const list: CheckpointChain[] = [];
    const before = previous?.checkpoint.controls.find((entry) => entry.id === control.id);
    for (const kind of CHAIN_KINDS) {
      const chainHead = await deps.chains.read(control.id, kind);
      const earlier = before?.chains.find((chain) => chain.kind === kind);
      if (!chainHead) {
        if (kind === 'scheduled' || earlier) {
          list.push({
            kind,
            cadence: earlier?.cadence ?? control.cadence,
            head: earlier?.head ?? null,
            added: [],
          });
        }
        continue;
      }
      await sealHead(deps.store, chainHead);
      const { listedHead, added } = await listChain(deps, chainHead, earlier?.head?.sequence ?? 0);
      addedCount += added.length;
      list.push({
        kind,
        cadence: (chainHead.cadence as CheckpointChain['cadence']) ?? control.cadence,
        head: listedHead,
        added,
      });
    }
    chains.set(control.id, list);
  }

  const signOffs: CheckpointSignOffChain[] = [];
  const declared = new Map((deps.signOffChains ?? []).map((chain) => [chain.id, chain.cadence]));
  for (const earlier of previous?.checkpoint.signOffs ?? [])
    if (!declared.has(earlier.id)) declared.set(earlier.id, earlier.cadence);
  for (const [id, cadence] of declared) {
    const earlier = previous?.checkpoint.signOffs?.find((chain) => chain.id === id);
    const chainHead = await deps.chains.read(id, 'scheduled');
    if (!chainHead) {
      if (earlier) signOffs.push({ ...earlier, added: [] });
      continue;
    }
    await sealHead(deps.store, chainHead);
    const { listedHead, added } = await listChain(deps, chainHead, earlier?.head?.sequence ?? 0);
    addedCount += added.length;
    signOffs.push({
      id,
      cadence: (chainHead.cadence as CheckpointSignOffChain['cadence']) ?? cadence,
      head: listedHead,
      added,
    });
  }

  let writtenAt = clock();
  const previousAt = head ? parseCheckpointKey(head.key) : undefined;
  // Keys have one-second resolution and must increase.
  if (previousAt && writtenAt.getTime() < previousAt.getTime() + 1000)
    writtenAt = new Date(previousAt.getTime() + 1000);
  const checkpoint = buildCheckpoint({
    config: deps.config,
    configSha256: deps.configSha256,
    writtenAt: new Date(Math.floor(writtenAt.getTime() / 1000) * 1000),
    ...(head && previous ? { previous: { key: head.key, sha256: head.sha256, signed: previous } } : {}),
    chains,
    signOffs,
    keyFingerprint: info.fingerprint,
    publicKeyKey: publicKeyKey(info.fingerprint),
  });
  const signature = Buffer.from(await deps.signer.sign(checkpointSigningBytes(checkpoint))).toString(
    'base64',
  );
  const body = serializeSignedCheckpoint({ checkpoint, signature });
  const key = checkpointKey(new Date(checkpoint.writtenAt));
  const next: CheckpointHead = {
    sequence: checkpoint.sequence,
    key,
    sha256: sha256Hex(body),
    body: body.toString('utf8'),
  };
  await deps.checkpoints.advance(next, head?.sequence ?? 0);
  await deps.store.putOnce(key, body, JSON_TYPE);
  return {
    key,
    sequence: checkpoint.sequence,
    controls: checkpoint.controls.length,
    signOffChains: signOffs.length,
    added: addedCount,
  };
}
