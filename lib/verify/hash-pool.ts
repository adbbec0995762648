import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MAX_KEPT_BYTES } from './archive-file.ts';

/** What a worker returns for each file it hashed. */
export interface Hashed {
  readonly size: number;
  readonly sha256: string;
  /** The bytes, when asked to keep them (manifests, signatures, keys). */
  readonly content?: Buffer;
  /** A zip entry that does not inflate to its declared size: why (the entry is not hashed). */
  readonly invalid?: string;
  /** Newlines, when asked to count them (population files). */
  readonly lines?: number;
}

/** Files of a folder, read and hashed by the worker itself. */
export interface FileBatch {
  readonly kind: 'files';
  readonly paths: readonly string[];
  readonly keep: readonly boolean[];
  /** Count newlines of these files (populations); absent means none. */
  readonly countLines?: readonly boolean[];
}

/**
 * Zip entries whose compressed bytes lie in `buffer`, back to back; the worker inflates (bounded by
 * the declared size) and hashes each. `buffer` must own its ArrayBuffer (it is transferred).
 */
export interface ZipBatch {
  readonly kind: 'zip';
  readonly buffer: Buffer;
  readonly entries: readonly {
    readonly compressedSize: number;
    readonly method: number;
    readonly size: number;
    readonly keep: boolean;
    /** Count newlines (population files). */
    readonly countLines?: boolean;
  }[];
}

export class HashWorkerError extends Error {
  override name = 'HashWorkerError';
}

/*
 * The worker, plain CommonJS evaluated in the thread (no module resolution, no loader hooks): it
 * reads each file of a batch and hashes it. Reads are synchronous; with the page cache warm that
 * beats a thread-pool round trip per file.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { closeSync, openSync, readSync } = require('node:fs');
const { inflateRawSync } = require('node:zlib');
const chunk = Buffer.allocUnsafe(1024 * 1024);
function zipEntries(batch) {
  const results = [];
  let offset = 0;
  for (const entry of batch.entries) {
    const raw = batch.buffer.subarray(offset, offset + entry.compressedSize);
    offset += entry.compressedSize;
    let data;
    try {
      data = entry.method === 8 ? inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) }) : raw;
    } catch (error) {
      results.push({ size: entry.size, sha256: '', invalid: 'corrupt or larger than declared (' + (error && error.message) + ')' });
      continue;
    }
    if (data.length !== entry.size) {
      results.push({ size: entry.size, sha256: '', invalid: data.length + ' bytes, the archive declares ' + entry.size });
      continue;
    }
    const sha256 = createHash('sha256').update(data).digest('hex');
    let lines;
    if (entry.countLines) {
      lines = 0;
      let at = data.indexOf(10, 0);
      while (at !== -1) { lines += 1; at = data.indexOf(10, at + 1); }
    }
    results.push({ size: entry.size, sha256, content: entry.keep ? Buffer.from(data) : undefined, lines });
  }
  return results;
}
parentPort.on('message', ({ id, batch }) => {
  try {
    if (batch.kind === 'zip') {
      parentPort.postMessage({ id, results: zipEntries(batch) });
      return;
    }
    const results = [];
    batch.paths.forEach((path, index) => {
      const hash = createHash('sha256');
      const kept = [];
      let size = 0;
      const counting = Boolean(batch.countLines && batch.countLines[index]);
      let lines = 0;
      const fd = openSync(path, 'r');
      try {
        for (;;) {
          const read = readSync(fd, chunk, 0, chunk.length, null);
          if (read === 0) break;
          hash.update(chunk.subarray(0, read));
          if (counting) {
            let at = chunk.indexOf(10, 0);
            while (at !== -1 && at < read) { lines += 1; at = chunk.indexOf(10, at + 1); }
          }
          if (batch.keep[index] && size + read <= ${MAX_KEPT_BYTES}) kept.push(Buffer.from(chunk.subarray(0, read)));
          size += read;
        }
      } finally {
        closeSync(fd);
      }
      results.push({ size, sha256: hash.digest('hex'), content: batch.keep[index] ? Buffer.concat(kept) : undefined, lines: counting ? lines : undefined });
    });
    parentPort.postMessage({ id, results });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

interface Job {
  readonly resolve: (results: Hashed[]) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A few worker threads that read and hash batches of files in parallel, so verification uses every
 * core (sha256sum uses one). Batches are assigned to the least busy worker.
 */
export class HashPool {
  readonly #workers: { worker: Worker; busy: number }[];
  readonly #jobs = new Map<number, Job>();
  #nextId = 0;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.#workers = Array.from({ length: size }, () => {
      // No execArgv: the worker is plain CommonJS, and inheriting the parent's `--import tsx` (the
      // bench and `node --import tsx` runs) made every worker boot the TypeScript loader first.
      const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
      const slot = { worker, busy: 0 };
      worker.on('message', (message: { id: number; results?: Hashed[]; error?: string }) => {
        slot.busy -= 1;
        const job = this.#jobs.get(message.id);
        this.#jobs.delete(message.id);
        if (!job) return;
        if (message.error !== undefined) job.reject(new HashWorkerError(message.error));
        else
          job.resolve(
            (message.results ?? []).map((result) => ({
              ...result,
              ...(result.content ? { content: Buffer.from(result.content) } : {}),
            })),
          );
      });
      worker.on('error', (error) => {
        for (const [id, job] of this.#jobs) {
          this.#jobs.delete(id);
          job.reject(new HashWorkerError('a hashing worker failed', { cause: error }));
        }
      });
      return slot;
    });
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Batches waiting or running, across workers. */
  get pending(): number {
    return this.#jobs.size;
  }

  /** A zip batch's buffer is transferred to the worker (unusable here afterwards), not copied. */
  run(batch: FileBatch | ZipBatch): Promise<Hashed[]> {
    const slot = this.#workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.#nextId;
    this.#nextId += 1;
    slot.busy += 1;
    return new Promise((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      const transfer = batch.kind === 'zip' ? [batch.buffer.buffer as ArrayBuffer] : [];
      slot.worker.postMessage({ id, batch }, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }
}
