import { createHash } from 'node:crypto';
import {
  DEFAULT_POPULATION_CAP,
  type PopulationDeclaration,
  PopulationDeclarationError,
  type PopulationItem,
  type PopulationProvenance,
  type PopulationSession,
  type PopulationSink,
  type WrittenPopulation,
} from '../controls/population.ts';
import { canonicalJson } from '../shared/canonical-json.ts';
import { POPULATION_CONTENT_TYPE, populationKey } from './evidence-layout.ts';

/**
 * Write-once streamed uploads (S3 multipart under `If-None-Match: *`; memory in pure tests). The
 * body is consumed once; `beforeCommit` runs just before the object becomes visible and may throw
 * to abandon it (a run that already sealed its manifest must not gain a file).
 */
export interface PopulationObjectStore {
  putStreamOnce(
    key: string,
    chunks: AsyncIterable<Uint8Array>,
    contentType: string,
    beforeCommit: () => void,
  ): Promise<{ readonly sha256: string; readonly size: number }>;
}

export class PopulationWriteError extends Error {
  override name = 'PopulationWriteError';
}

/** One item's line in the file: canonical JSON (sorted keys, no whitespace) and a newline. */
export function populationLine(item: PopulationItem): string {
  return `${canonicalJson(item)}\n`;
}

/** Lines are gathered into chunks of about this size before they go to the store. */
const CHUNK_BYTES = 1024 * 1024;

export interface PopulationSessionOptions {
  readonly store: PopulationObjectStore;
  /** `evidence/<control>/<cadence>/<period>/<runId>/` */
  readonly runPrefix: string;
  readonly declarations: readonly PopulationDeclaration[];
  /** Items written at most per population; more are left out and the cap is recorded as reached. */
  readonly cap?: number;
}

/**
 * Opens the population sink of one run. Each population is validated (declared, written once,
 * every item a non-empty string id), turned into canonical lines, hashed and uploaded as it is
 * read, and cut at the cap; the SHA-256 the store reports must equal the one computed here.
 */
export function openPopulationSession(options: PopulationSessionOptions): PopulationSession {
  const cap = options.cap ?? DEFAULT_POPULATION_CAP;
  const written: WrittenPopulation[] = [];
  const started = new Set<string>();
  let closed = false;

  const sink: PopulationSink = {
    async write(declaration, provenance, items) {
      if (closed)
        throw new PopulationWriteError(`population ${declaration.name}: the run is already recorded`);
      if (!options.declarations.some((declared) => declared.name === declaration.name))
        throw new PopulationDeclarationError(`population "${declaration.name}" is not declared by this test`);
      if (started.has(declaration.name))
        throw new PopulationDeclarationError(`population "${declaration.name}" written twice in one run`);
      started.add(declaration.name);
      const key = populationKey(options.runPrefix, declaration.name);
      const hash = createHash('sha256');
      let rows = 0;
      let size = 0;
      let reached = false;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        let pending: string[] = [];
        let pendingBytes = 0;
        for await (const item of items) {
          if (rows >= cap) {
            reached = true;
            break;
          }
          if (typeof item.id !== 'string' || item.id.length === 0)
            throw new PopulationWriteError(
              `population ${declaration.name}: item ${rows + 1} has no string id (${canonicalJson(item).slice(0, 120)})`,
            );
          const line = populationLine(item);
          rows += 1;
          pending.push(line);
          pendingBytes += line.length;
          if (pendingBytes >= CHUNK_BYTES) {
            const chunk = Buffer.from(pending.join(''), 'utf8');
            pending = [];
            pendingBytes = 0;
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        }
        if (pending.length > 0) {
          const chunk = Buffer.from(pending.join(''), 'utf8');
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      }
      const stored = await options.store.putStreamOnce(key, chunks(), POPULATION_CONTENT_TYPE, () => {
        if (closed)
          throw new PopulationWriteError(
            `population ${declaration.name}: the run was recorded while it was written`,
          );
      });
      const sha256 = hash.digest('hex');
      if (stored.sha256 !== sha256 || stored.size !== size)
        throw new PopulationWriteError(
          `population ${declaration.name}: the store holds ${stored.size} bytes with SHA-256 ${stored.sha256.slice(0, 16)}…, not the ${size} bytes (${sha256.slice(0, 16)}…) written`,
        );
      const population: WrittenPopulation = {
        name: declaration.name,
        description: declaration.description,
        key,
        contentType: POPULATION_CONTENT_TYPE,
        size,
        rows,
        sha256,
        cap: { limit: cap, reached },
        provenance: resolve(provenance),
      };
      if (closed)
        throw new PopulationWriteError(
          `population ${declaration.name}: the run was recorded while it was written`,
        );
      written.push(population);
      return population;
    },
  };
  return {
    sink,
    close() {
      closed = true;
      return [...written].sort((a, b) => (a.name < b.name ? -1 : 1));
    },
  };
}

function resolve(provenance: PopulationProvenance | (() => PopulationProvenance)): PopulationProvenance {
  return typeof provenance === 'function' ? provenance() : provenance;
}

/** A memory store for pure tests: write-once by content, like the S3 one. */
export function makeMemoryPopulationStore(objects: Map<string, Buffer> = new Map()): PopulationObjectStore & {
  readonly objects: Map<string, Buffer>;
} {
  return {
    objects,
    async putStreamOnce(key, chunks, _contentType, beforeCommit) {
      const parts: Buffer[] = [];
      for await (const chunk of chunks) parts.push(Buffer.from(chunk));
      const body = Buffer.concat(parts);
      const sha256 = createHash('sha256').update(body).digest('hex');
      beforeCommit();
      const there = objects.get(key);
      if (there && createHash('sha256').update(there).digest('hex') !== sha256)
        throw new PopulationWriteError(`${key} already holds other bytes`);
      objects.set(key, body);
      return { sha256, size: body.length };
    },
  };
}
