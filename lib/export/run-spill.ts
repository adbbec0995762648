import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ExportedRun } from './export-model.ts';

const FLUSH_AT = 256 * 1024;

/**
 * The exported runs' summaries, kept on disk (one JSON line each) instead of in memory, so an
 * export's memory does not grow with the number of runs; the reports read them back in order.
 */
export class RunSpill {
  #pending: string[] = [];
  #pendingLength = 0;
  #count = 0;

  private constructor(
    private readonly dir: string,
    private readonly fd: number,
  ) {}

  static async create(): Promise<RunSpill> {
    const dir = await mkdtemp(join(tmpdir(), 'soc2-export-runs-'));
    return new RunSpill(dir, openSync(join(dir, 'runs.jsonl'), 'w+', 0o600));
  }

  get count(): number {
    return this.#count;
  }

  append(run: ExportedRun): void {
    const line = `${JSON.stringify(run)}\n`;
    this.#pending.push(line);
    this.#pendingLength += line.length;
    this.#count += 1;
    if (this.#pendingLength >= FLUSH_AT) this.#flush();
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    writeSync(this.fd, this.#pending.join(''));
    this.#pending = [];
    this.#pendingLength = 0;
  }

  /** Every run appended so far, in order; may be called any number of times. */
  async *read(): AsyncGenerator<ExportedRun> {
    this.#flush();
    const lines = createInterface({
      input: createReadStream('', { fd: this.fd, start: 0, autoClose: false, encoding: 'utf8' }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) if (line) yield JSON.parse(line) as ExportedRun;
  }

  async dispose(): Promise<void> {
    closeSync(this.fd);
    await rm(this.dir, { recursive: true, force: true });
  }
}
