import { compareDigests, type DigestWords, digestHex, KeyedHmacSha256 } from './sample-hmac.ts';
import { findLineId, type LineIdRange } from './sample-line-id.ts';

/** A line is not a population item: `where` names the file and line. */
export class PopulationLineError extends Error {
  override name = 'PopulationLineError';
}

/** Two items of the sample share an id. */
export class DuplicateItemError extends Error {
  override name = 'DuplicateItemError';
  constructor(readonly id: string) {
    super(`item id ${id} occurs more than once in the population: ids must be unique`);
  }
}

/** One ranked item: `id` is "<periodKey>/<item id>", `hmac` its digest in hex. */
export interface RankedItem {
  readonly hmac: string;
  readonly id: string;
  readonly periodKey: string;
  readonly itemId: string;
  readonly line: string;
  readonly words: DigestWords;
}

/** The item's id as `JSON.parse` reads it, or why the line is not an item. */
export function parseLineId(line: string, where: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new PopulationLineError(`${where}: not a JSON line`, { cause: error });
  }
  const id = (parsed as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id.length === 0)
    throw new PopulationLineError(`${where}: the item has no string id`);
  return id;
}

const NO_PREFIX = new Uint8Array(0);

function greater(a: RankedItem, b: { readonly hmac: string; readonly id: string }): boolean {
  return a.hmac > b.hmac || (a.hmac === b.hmac && a.id > b.id);
}

/**
 * Ranks a population by HMAC-SHA256(seed, "<periodKey>/<item id>") and keeps the `capacity`
 * smallest (digest, id) pairs in a max-heap: memory is `capacity` items whatever the population.
 * An item that cannot beat the heap's largest is dropped after its digest is computed, before its
 * id or line is decoded (the common case, millions of times). Items that share an id with an
 * item kept, or with the largest, are remembered, and {@link sorted} refuses a selection holding
 * such an id: a duplicate is named whenever it is part of the sample.
 */
export class PopulationRanker {
  readonly #heap: RankedItem[] = [];
  readonly #hmac: KeyedHmacSha256;
  readonly #range: LineIdRange = { idStart: 0, idEnd: 0 };
  readonly #kept = new Map<string, number>();
  readonly #repeated = new Set<string>();
  #prefix: Uint8Array = new Uint8Array(0);
  #periodKey = '';

  constructor(
    seed: string,
    readonly capacity: number,
  ) {
    this.#hmac = new KeyedHmacSha256(seed);
  }

  /** Items offered from now on belong to this period (their message is "<periodKey>/<item id>"). */
  startPeriod(periodKey: string): void {
    this.#periodKey = periodKey;
    this.#prefix = Buffer.from(`${periodKey}/`, 'utf8');
  }

  /** One line, `source[start..end)` without its newline, as UTF-8 JSON; `where` names it in errors (built only then). */
  offerBytes(source: Buffer, start: number, end: number, where: { readonly text: () => string }): void {
    const range = this.#range;
    if (findLineId(source, start, end, range)) {
      // An ASCII id: "<periodKey>/" + its bytes is the UTF-8 of the qualified id.
      if (this.capacity === 0) return;
      const words = this.#hmac.digest(this.#prefix, source, range.idStart, range.idEnd);
      if (!this.#mayEnter(words, undefined, source, range)) return;
      this.#insert(
        words,
        source.toString('latin1', range.idStart, range.idEnd),
        source.toString('utf8', start, end + 1),
      );
      return;
    }
    const line = source.toString('utf8', start, end + 1);
    this.offerLine(line, parseLineId(line, where.text()));
  }

  /** A line already decoded (with its newline) and its id. */
  offerLine(line: string, itemId: string): void {
    if (this.capacity === 0) return;
    const message = Buffer.from(`${this.#periodKey}/${itemId}`, 'utf8');
    const words = this.#hmac.digest(NO_PREFIX, message, 0, message.length);
    if (this.#mayEnter(words, itemId, undefined, this.#range)) this.#insert(words, itemId, line);
  }

  /**
   * Whether (words, id) is smaller than the heap's largest (or the heap has room). The id is
   * `itemId`, or the ASCII bytes `source[range)`, decoded only on a digest tie (no closure per
   * line: this runs for every item).
   */
  #mayEnter(
    words: DigestWords,
    itemId: string | undefined,
    source: Buffer | undefined,
    range: LineIdRange,
  ): boolean {
    const top = this.#heap[0];
    if (!top || this.#heap.length < this.capacity) return true;
    const order = compareDigests(top.words, words);
    if (order !== 0) return order > 0;
    const id = `${this.#periodKey}/${itemId ?? source?.toString('latin1', range.idStart, range.idEnd)}`;
    if (id === top.id) this.#repeated.add(id);
    return top.id > id;
  }

  #insert(digest: DigestWords, itemId: string, line: string): void {
    const words = Int32Array.from(digest);
    const id = `${this.#periodKey}/${itemId}`;
    const entry: RankedItem = { hmac: digestHex(words), id, periodKey: this.#periodKey, itemId, line, words };
    const kept = this.#kept.get(id) ?? 0;
    if (kept > 0) this.#repeated.add(id);
    this.#kept.set(id, kept + 1);
    const heap = this.#heap;
    if (heap.length < this.capacity) {
      heap.push(entry);
      let at = heap.length - 1;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!greater(heap[at] as RankedItem, heap[parent] as RankedItem)) break;
        [heap[at], heap[parent]] = [heap[parent] as RankedItem, heap[at] as RankedItem];
        at = parent;
      }
      return;
    }
    const evicted = heap[0] as RankedItem;
    const left = (this.#kept.get(evicted.id) ?? 1) - 1;
    if (left > 0) this.#kept.set(evicted.id, left);
    else this.#kept.delete(evicted.id);
    heap[0] = entry;
    let at = 0;
    for (;;) {
      const leftChild = at * 2 + 1;
      const rightChild = leftChild + 1;
      let largest = at;
      if (leftChild < heap.length && greater(heap[leftChild] as RankedItem, heap[largest] as RankedItem))
        largest = leftChild;
      if (rightChild < heap.length && greater(heap[rightChild] as RankedItem, heap[largest] as RankedItem))
        largest = rightChild;
      if (largest === at) break;
      [heap[at], heap[largest]] = [heap[largest] as RankedItem, heap[at] as RankedItem];
      at = largest;
    }
  }

  /** The kept items by ascending (digest, id); throws {@link DuplicateItemError} for a repeated id among them. */
  sorted(): RankedItem[] {
    const picked = [...this.#heap].sort((a, b) => (greater(a, b) ? 1 : -1));
    const repeated = picked.find((item) => this.#repeated.has(item.id));
    if (repeated) throw new DuplicateItemError(repeated.id);
    return picked;
  }
}

/**
 * Offers every line of one population file, streamed: each chunk goes to `onChunk` (hashing,
 * copying) and its lines to the ranker in place; only a line cut by a chunk boundary is copied.
 * Returns the lines counted and whether bytes follow the last newline.
 */
export async function offerStream(
  ranker: PopulationRanker,
  stream: AsyncIterable<unknown>,
  label: string,
  onChunk: (chunk: Buffer) => void | Promise<void>,
): Promise<{ rows: number; unterminated: boolean }> {
  let rows = 0;
  let rest: Buffer | undefined;
  const where = { text: () => `${label} line ${rows}` };
  for await (const raw of stream) {
    const chunk = raw as Buffer;
    await onChunk(chunk);
    let start = 0;
    let end = chunk.indexOf(10);
    if (rest !== undefined && end !== -1) {
      const line = Buffer.concat([rest, chunk.subarray(0, end + 1)]);
      rows += 1;
      ranker.offerBytes(line, 0, line.length - 1, where);
      rest = undefined;
      start = end + 1;
      end = chunk.indexOf(10, start);
    }
    while (end !== -1) {
      rows += 1;
      ranker.offerBytes(chunk, start, end, where);
      start = end + 1;
      end = chunk.indexOf(10, start);
    }
    if (start < chunk.length)
      rest =
        rest === undefined
          ? Buffer.from(chunk.subarray(start))
          : Buffer.concat([rest, chunk.subarray(start)]);
  }
  return { rows, unterminated: rest !== undefined };
}
