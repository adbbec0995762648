import type { RunResult, StoredEvidence } from '../runs/run-record.ts';
import { sha256Hex } from '../shared/canonical-json.ts';
import { TOOL_VERSION } from '../shared/version.ts';
import type { ChainHead, ChainHeadStore, ChainKind } from './chain-head-store.ts';
import { MANIFEST_FILE, publicKeyKey, RESULT_FILE, signatureKeyFor } from './evidence-layout.ts';
import { EvidenceConflictError, type EvidenceObjectStore } from './evidence-object-store.ts';
import { type EvidenceRecorder, runPrefix } from './evidence-recorder.ts';
import { buildManifest, type ManifestPopulation, serializeManifest } from './manifest.ts';
import {
  makeMemoryPopulationStore,
  openPopulationSession,
  type PopulationObjectStore,
} from './population-writer.ts';
import type { ManifestSigner } from './signer.ts';

/** The evidence document of one attempt: what was checked, how, what came back, and the verdict. */
export function evidenceDocument(run: RunResult): Record<string, unknown> {
  return {
    kind: 'soc2-evidence/result',
    schemaVersion: 1,
    tool: { name: 'soc2-evidence', version: TOOL_VERSION },
    control: { id: run.controlId, criteria: run.criteria, owner: run.owner },
    period: { cadence: run.cadence, key: run.periodKey, start: run.periodStart, end: run.periodEnd },
    runId: run.runId,
    asOf: run.asOf,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    verdict: run.outcome.verdict,
    reasons: run.outcome.reasons,
    warnings: run.outcome.warnings,
    figures: run.outcome.figures,
    details: run.outcome.details,
    checks: run.entries,
  };
}

const JSON_TYPE = 'application/json';

/**
 * Writes the manifest a head points at, signature first, if a crash left it unwritten. Idempotent:
 * when both objects are there with these bytes it only confirms them. A head written before heads
 * carried their manifest cannot be pending, so it is left alone.
 */
export async function sealHead(store: EvidenceObjectStore, head: ChainHead): Promise<void> {
  if (head.manifest === undefined) return;
  await store.putOnce(signatureKeyFor(head.manifestKey), Buffer.from(head.signature, 'utf8'), 'text/plain');
  await store.putOnce(head.manifestKey, Buffer.from(head.manifest, 'utf8'), JSON_TYPE);
}

export interface EvidenceRecorderDeps {
  readonly store: EvidenceObjectStore;
  /** Streamed uploads for populations; without it the recorder offers no population sink. */
  readonly populationStore?: PopulationObjectStore;
  /** KMS in AWS, a local key in `npm start` and tests. */
  readonly signer: ManifestSigner;
  /** Chain heads (DynamoDB `CONTROL#<id>` / `CHAIN`). */
  readonly chain: ChainHeadStore;
  /** The config's time zone, in which periods are cut. @default 'UTC' */
  readonly timeZone?: string;
}

/**
 * Records one run as tamper-evident evidence, in an order where no crash point leaves anything
 * that fails verification once the job's retry succeeds:
 * 0. (during the run) its populations, streamed into its folder through {@link openPopulations};
 * 1. seal the current head if a crash left its manifest unwritten (step 5 of an earlier run; a
 *    head this recorder sealed itself is known to be sealed);
 * 2. the artifact (`result.json`) and the signing key's public half (once per process);
 * 3. build and sign the manifest (nothing written yet);
 * 4. advance the chain head to it, conditionally on the sequence, carrying the manifest's bytes;
 * 5. write `manifest.sig`, then `manifest.json`.
 *
 * A crash before 4, or a lost race at 4 ({@link ChainConflictError}; the job is retried), leaves an
 * unsealed run folder (an artifact no manifest lists), which `verify` notes and export skips. A crash
 * in 5 leaves a head whose objects are missing: the next write to the chain (the retry) or the next
 * checkpoint writes them from the head first (step 1). Every write is idempotent by content, so an
 * SDK retry that meets its own earlier write is success. A manifest is never on the chain without
 * its signature, and no two manifests ever claim one sequence number.
 */
export function makeEvidenceRecorder(deps: EvidenceRecorderDeps): EvidenceRecorder {
  const { store, signer, chain } = deps;
  const timeZone = deps.timeZone ?? 'UTC';
  let publishedKey: Promise<string> | undefined;

  const publishPublicKey = (): Promise<string> => {
    publishedKey ??= signer
      .publicKey()
      .then(async (info) => {
        await store.putOnce(
          publicKeyKey(info.fingerprint),
          Buffer.from(info.pem, 'utf8'),
          'application/x-pem-file',
        );
        return info.fingerprint;
      })
      .catch((error: unknown) => {
        publishedKey = undefined;
        throw error;
      });
    return publishedKey;
  };

  // The manifest this recorder itself sealed last, per chain: the next run of that chain need not
  // confirm its objects again (two reads and two refused writes per run). A head sealed by another
  // process, or one whose sealing failed here, is not in it and is sealed as before.
  const sealedHere = new Map<string, string>();
  const chainOf = (controlId: string, kind: ChainKind) => `${kind}#${controlId}`;

  const { populationStore } = deps;
  return {
    ...(populationStore
      ? {
          openPopulations: (run, declarations, options = {}) =>
            openPopulationSession({
              store: populationStore,
              runPrefix: runPrefix(run),
              declarations,
              ...(options.cap !== undefined ? { cap: options.cap } : {}),
            }),
        }
      : {}),
    async record(run) {
      const kind: ChainKind = run.chainKind ?? 'scheduled';
      const prefix = runPrefix(run);
      const head = await chain.read(run.controlId, kind);
      if (head && sealedHere.get(chainOf(run.controlId, kind)) !== head.manifestSha256)
        await sealHead(store, head);

      const evidenceKey = `${prefix}${RESULT_FILE}`;
      const body = Buffer.from(`${JSON.stringify(evidenceDocument(run), null, 2)}\n`, 'utf8');
      const evidenceSha256 = await store.putOnce(evidenceKey, body, JSON_TYPE);
      const fingerprint = await publishPublicKey();

      const sequence = (head?.sequence ?? 0) + 1;
      const populations = run.populations ?? [];
      for (const population of populations) {
        if (!population.key.startsWith(prefix))
          throw new EvidenceConflictError(
            `population ${population.name} lies outside the run folder ${prefix}`,
          );
      }
      const manifest = buildManifest({
        run,
        timeZone,
        artifacts: [
          { key: evidenceKey, size: body.length, sha256: evidenceSha256, contentType: JSON_TYPE },
          ...populations.map(({ key, size, sha256, contentType }) => ({ key, size, sha256, contentType })),
        ],
        populations: populations.map(
          ({ name, description, key, rows, sha256, cap, provenance }): ManifestPopulation => ({
            name,
            description,
            key,
            rows,
            sha256,
            cap: { ...cap },
            provenance:
              provenance.source === 'sql'
                ? { ...provenance, database: { ...provenance.database }, params: [...provenance.params] }
                : { ...provenance },
          }),
        ),
        sequence,
        previous: head
          ? {
              sequence: head.sequence,
              key: head.manifestKey,
              sha256: head.manifestSha256,
              signature: head.signature,
              periodKey: head.periodKey,
            }
          : null,
        chainKind: kind,
        keyFingerprint: fingerprint,
        publicKeyKey: publicKeyKey(fingerprint),
      });
      const manifestBytes = serializeManifest(manifest);
      const signature = Buffer.from(await signer.sign(manifestBytes)).toString('base64');
      const manifestKey = `${prefix}${MANIFEST_FILE}`;
      const manifestSha256 = sha256Hex(manifestBytes);
      const next: ChainHead = {
        controlId: run.controlId,
        ...(kind === 'events' ? { chainKind: 'events' as const } : {}),
        sequence,
        manifestKey,
        manifestSha256,
        signature,
        cadence: run.cadence,
        periodKey: run.periodKey,
        collectedAt: manifest.collectedAt,
        manifest: manifestBytes.toString('utf8'),
      };
      await chain.advance(next, head?.sequence ?? 0);
      await sealHead(store, next);
      sealedHere.set(chainOf(run.controlId, kind), manifestSha256);
      return { evidenceKey, evidenceSha256, manifestKey, manifestSha256 } satisfies StoredEvidence;
    },
  };
}

/** Objects in memory, write-once by content: for pure tests and property-based histories. */
export function makeMemoryObjectStore(): EvidenceObjectStore &
  PopulationObjectStore & { readonly objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  return {
    objects,
    putStreamOnce: makeMemoryPopulationStore(objects).putStreamOnce,
    async putOnce(key, body) {
      const sha256 = sha256Hex(body);
      const there = objects.get(key);
      if (there && sha256Hex(there) !== sha256) {
        throw new EvidenceConflictError(`${key} already holds other bytes`);
      }
      objects.set(key, Buffer.from(body));
      return sha256;
    },
  };
}
