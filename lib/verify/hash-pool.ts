import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { MAX_KEPT_BYTES } from './archive-file.ts';

/** What a worker returns for each file it hashed. */
export interface Hashed {
  readonly size: number;
  readonly sha256: string;
  /** The bytes, when asked to keep them (manifests, signatures, keys). */
  readonly content?: Buffer;
  /** A zip entry that cannot be read as declared: why (the entry is not hashed). */
  readonly invalid?: string;
  /** The archive ends before the entry does. */
  readonly truncated?: boolean;
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
 * Zip entries, in file order: the worker reads each local header and the compressed bytes after it
 * from `fd` (positioned reads; the descriptor is the process's, shared by its threads), inflates
 * (bounded by the declared size) and hashes. `span` is a hint: the bytes from the first header to
 * the last entry's end, read in one call.
 */
export interface ZipBatch {
  readonly kind: 'zip';
  readonly fd: number;
  readonly span: number;
  readonly entries: readonly {
    /** Offset of the entry's local file header. */
    readonly offset: number;
    readonly compressedSize: number;
    readonly method: number;
    readonly size: number;
    readonly keep: boolean;
    /** Count newlines (population files). */
    readonly countLines?: boolean;
  }[];
}

/**
 * Manifest signatures: each item's bytes lie in `buffer` (transferred), back to back; the worker
 * checks each against its key (ECDSA P-256, SHA-256, DER signature, as `verifySignature` does).
 */
export interface SignatureBatch {
  readonly kind: 'signatures';
  readonly buffer: ArrayBuffer;
  readonly keys: readonly (readonly [fingerprint: string, key: KeyObject])[];
  readonly items: readonly {
    readonly fingerprint: string;
    readonly length: number;
    readonly signature: string;
  }[];
}

export class HashWorkerError extends Error {
  override name = 'HashWorkerError';
}

/*
 * The worker, plain CommonJS evaluated in the thread (no module resolution, no loader hooks): it
 * reads and hashes files, zip entries, or checks signatures. Reads are synchronous; with the page
 * cache warm that beats a thread-pool round trip per file. The bytes it keeps go back in one
 * transferred buffer per batch (one copy, no structured clone of thousands of small buffers).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash, verify } = require('node:crypto');
const { closeSync, openSync, readSync } = require('node:fs');
// zlib loads with the first zip batch: a folder's workers never pay for it.
let zlib;
const chunk = Buffer.allocUnsafe(1024 * 1024);
const MAX_KEPT = ${MAX_KEPT_BYTES};
function packer() {
  const parts = [];
  let length = 0;
  return {
    add(bytes) { parts.push(bytes); length += bytes.length; return bytes.length; },
    done() {
      const buffer = new ArrayBuffer(length);
      const view = new Uint8Array(buffer);
      let at = 0;
      for (const part of parts) { view.set(part, at); at += part.length; }
      return buffer;
    },
  };
}
function newlines(data, end) {
  let lines = 0;
  let at = data.indexOf(10, 0);
  while (at !== -1 && at < end) { lines += 1; at = data.indexOf(10, at + 1); }
  return lines;
}
function files(batch, kept) {
  const results = [];
  batch.paths.forEach((path, index) => {
    const hash = createHash('sha256');
    const keep = batch.keep[index];
    const pieces = [];
    let size = 0;
    const counting = Boolean(batch.countLines && batch.countLines[index]);
    let lines = 0;
    const fd = openSync(path, 'r');
    try {
      for (;;) {
        const read = readSync(fd, chunk, 0, chunk.length, null);
        if (read === 0) break;
        hash.update(chunk.subarray(0, read));
        if (counting) lines += newlines(chunk, read);
        if (keep && size + read <= MAX_KEPT) pieces.push(Buffer.from(chunk.subarray(0, read)));
        size += read;
      }
    } finally {
      closeSync(fd);
    }
    results.push({
      size,
      sha256: hash.digest('hex'),
      kept: keep ? kept.add(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces)) : -1,
      lines: counting ? lines : undefined,
    });
  });
  return results;
}
function zip(batch, kept) {
  let window = Buffer.alloc(0);
  let windowStart = 0;
  const slice = (position, length) => {
    if (position < windowStart || position + length > windowStart + window.length) {
      const want = Math.max(length, batch.span - (position - (batch.entries[0] ? batch.entries[0].offset : 0)), 64 * 1024);
      const buffer = Buffer.allocUnsafe(want);
      const read = readSync(batch.fd, buffer, 0, want, position);
      window = buffer.subarray(0, read);
      windowStart = position;
      if (length > read) return undefined;
    }
    return window.subarray(position - windowStart, position - windowStart + length);
  };
  const results = [];
  for (const entry of batch.entries) {
    const header = slice(entry.offset, 30);
    if (!header) { results.push({ size: entry.size, sha256: '', truncated: true }); break; }
    if (header.readUInt32LE(0) !== 0x04034b50) {
      results.push({ size: entry.size, sha256: '', invalid: 'invalid local file header' });
      break;
    }
    const raw = slice(entry.offset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28), entry.compressedSize);
    if (!raw) { results.push({ size: entry.size, sha256: '', truncated: true }); break; }
    let data;
    try {
      // One output buffer one byte larger than declared: zlib fills it in one pass (its 16 KB
      // default meant several buffers and a concat copy per entry), and a stream longer than
      // declared still overruns maxOutputLength and throws.
      if (entry.method === 8 && !zlib) zlib = require('node:zlib');
      data = entry.method === 8
        ? zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size), chunkSize: Math.max(64, entry.size + 1) })
        : raw;
    } catch (error) {
      results.push({ size: entry.size, sha256: '', invalid: 'corrupt or larger than declared (' + (error && error.message) + ')' });
      break;
    }
    if (data.length !== entry.size) {
      results.push({ size: entry.size, sha256: '', invalid: data.length + ' bytes, the archive declares ' + entry.size });
      break;
    }
    const sha256 = createHash('sha256').update(data).digest('hex');
    results.push({
      size: entry.size,
      sha256,
      kept: entry.keep ? kept.add(data) : -1,
      lines: entry.countLines ? newlines(data, data.length) : undefined,
    });
  }
  return results;
}
const keys = new Map();
function signatures(batch) {
  for (const [fingerprint, key] of batch.keys) if (!keys.has(fingerprint)) keys.set(fingerprint, key);
  const bytes = Buffer.from(batch.buffer);
  let at = 0;
  return batch.items.map((item) => {
    const message = bytes.subarray(at, at + item.length);
    at += item.length;
    const key = keys.get(item.fingerprint);
    if (!key) return false;
    try {
      return verify('sha256', message, { key, dsaEncoding: 'der' }, Buffer.from(item.signature, 'base64'));
    } catch {
      return false;
    }
  });
}
parentPort.on('message', ({ id, batch }) => {
  try {
    if (batch.kind === 'signatures') {
      parentPort.postMessage({ id, valid: signatures(batch) });
      return;
    }
    const kept = packer();
    const results = batch.kind === 'zip' ? zip(batch, kept) : files(batch, kept);
    const buffer = kept.done();
    parentPort.postMessage({ id, results, buffer }, [buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

interface WireResult {
  readonly size: number;
  readonly sha256: string;
  /** Length of the kept bytes in the batch's buffer, or -1. */
  readonly kept?: number;
  readonly invalid?: string;
  readonly truncated?: boolean;
  readonly lines?: number;
}

interface Reply {
  readonly id: number;
  readonly results?: readonly WireResult[];
  readonly buffer?: ArrayBuffer;
  readonly valid?: readonly boolean[];
  readonly error?: string;
}

interface Job {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  busy: number;
}

export interface HashPoolOptions {
  /** @default os.availableParallelism(), at most 4 */
  readonly size?: number;
  /** Per-worker heap limits (tests use them to make a worker die). */
  readonly resourceLimits?: ResourceLimits;
}

/**
 * A few worker threads that read and hash batches of files or zip entries, and check batches of
 * signatures, in parallel, so verification uses every core (sha256sum uses one). Batches go to the
 * least busy worker. A worker that dies fails every batch it had and the pool with it: what it was
 * checking was not checked, so no caller may treat it as done.
 */
export class HashPool {
  readonly #slots: Slot[];
  readonly #jobs = new Map<number, Job>();
  #nextId = 0;
  #failure: Error | undefined;
  #closing = false;

  constructor(options: HashPoolOptions = {}) {
    const size = options.size ?? Math.max(1, Math.min(4, availableParallelism()));
    this.#slots = Array.from({ length: size }, () => {
      // No execArgv: the worker is plain CommonJS, and inheriting the parent's `--import tsx` (the
      // bench and `node --import tsx` runs) made every worker boot the TypeScript loader first.
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [],
        ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
      });
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (message: Reply) => {
        slot.busy -= 1;
        const job = this.#jobs.get(message.id);
        this.#jobs.delete(message.id);
        if (!job) return;
        if (message.error !== undefined) job.reject(new HashWorkerError(message.error));
        else job.resolve(message);
      });
      worker.on('error', (error) =>
        this.#fail(new HashWorkerError('a verify worker failed', { cause: error })),
      );
      // A worker that ends without an error event (terminated, process.exit in it) would leave its
      // batches waiting forever.
      worker.on('exit', (code) => {
        if (!this.#closing)
          this.#fail(new HashWorkerError(`a verify worker stopped unexpectedly (exit code ${code})`));
      });
      return slot;
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const [id, job] of this.#jobs) {
      this.#jobs.delete(id);
      job.reject(this.#failure);
    }
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Batches waiting or running, across workers. */
  get pending(): number {
    return this.#jobs.size;
  }

  #post(batch: FileBatch | ZipBatch | SignatureBatch, transfer: ArrayBuffer[]): Promise<Reply> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closing) return Promise.reject(new HashWorkerError('the verify workers were closed'));
    const slot = this.#slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.#nextId;
    this.#nextId += 1;
    slot.busy += 1;
    return new Promise((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      slot.worker.postMessage({ id, batch }, transfer);
    });
  }

  /** Hashes a batch; results in the batch's order (a zip batch stops at its first unreadable entry). */
  async run(batch: FileBatch | ZipBatch): Promise<Hashed[]> {
    const reply = await this.#post(batch, []);
    const kept = Buffer.from(reply.buffer ?? new ArrayBuffer(0));
    let at = 0;
    return (reply.results ?? []).map(({ kept: length, ...result }) => {
      if (length === undefined || length < 0) return result;
      // A view of the batch's buffer, not a copy: the file keeps the buffer alive.
      const content = kept.subarray(at, at + length);
      at += length;
      return { ...result, content };
    });
  }

  /** Checks a batch of signatures; `buffer` is transferred (unusable here afterwards). */
  async verify(batch: Omit<SignatureBatch, 'kind'>): Promise<readonly boolean[]> {
    const reply = await this.#post({ kind: 'signatures', ...batch }, [batch.buffer]);
    const valid = reply.valid ?? [];
    if (valid.length !== batch.items.length)
      throw new HashWorkerError(
        `a verify worker answered ${valid.length} of ${batch.items.length} signatures`,
      );
    return valid;
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const [id, job] of this.#jobs) {
      this.#jobs.delete(id);
      job.reject(new HashWorkerError('the verify workers were closed'));
    }
    await Promise.all(this.#slots.map(({ worker }) => worker.terminate()));
  }
}
