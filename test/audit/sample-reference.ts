import { createHmac } from 'node:crypto';

/**
 * The ranking `sample` used before it was made fast, kept verbatim as the reference the
 * differential tests compare with: every line decoded and `JSON.parse`d, one `createHmac` per
 * item, hex digests compared as strings, a max-heap of the N smallest (digest, id), and duplicates
 * named when two copies of an id are among the picked (returned as `duplicate`, the message it threw).
 */

export class ReferenceLineError extends Error {
  override name = 'ReferenceLineError';
}

export interface ReferenceEntry {
  readonly hmac: string;
  readonly id: string;
  readonly periodKey: string;
  readonly itemId: string;
  readonly line: string;
}

class SmallestN {
  readonly #heap: ReferenceEntry[] = [];
  constructor(readonly capacity: number) {}
  static #greater(a: { hmac: string; id: string }, b: { hmac: string; id: string }): boolean {
    return a.hmac > b.hmac || (a.hmac === b.hmac && a.id > b.id);
  }
  offer(entry: ReferenceEntry): void {
    const heap = this.#heap;
    if (this.capacity === 0) return;
    if (heap.length < this.capacity) {
      heap.push(entry);
      let at = heap.length - 1;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!SmallestN.#greater(heap[at] as ReferenceEntry, heap[parent] as ReferenceEntry)) break;
        [heap[at], heap[parent]] = [heap[parent] as ReferenceEntry, heap[at] as ReferenceEntry];
        at = parent;
      }
      return;
    }
    if (!SmallestN.#greater(heap[0] as ReferenceEntry, entry)) return;
    heap[0] = entry;
    let at = 0;
    for (;;) {
      const left = at * 2 + 1;
      const right = left + 1;
      let largest = at;
      if (
        left < heap.length &&
        SmallestN.#greater(heap[left] as ReferenceEntry, heap[largest] as ReferenceEntry)
      )
        largest = left;
      if (
        right < heap.length &&
        SmallestN.#greater(heap[right] as ReferenceEntry, heap[largest] as ReferenceEntry)
      )
        largest = right;
      if (largest === at) break;
      [heap[at], heap[largest]] = [heap[largest] as ReferenceEntry, heap[at] as ReferenceEntry];
      at = largest;
    }
  }
  sorted() {
    return [...this.#heap].sort((a, b) => (SmallestN.#greater(a, b) ? 1 : -1));
  }
}

export function referenceDigest(seed: string, qualifiedId: string): string {
  return createHmac('sha256', seed).update(qualifiedId, 'utf8').digest('hex');
}

export function referenceIdOf(line: string, where: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new ReferenceLineError(`${where}: not a JSON line`, { cause: error });
  }
  const id = (parsed as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id.length === 0)
    throw new ReferenceLineError(`${where}: the item has no string id`);
  return id;
}

/** The old loop over each period's chunks; the picked entries, or the error it threw. */
export function referenceRanking(
  seed: string,
  capacity: number,
  periods: readonly {
    readonly periodKey: string;
    readonly label: string;
    readonly chunks: readonly Buffer[];
  }[],
): { picked: ReferenceEntry[]; rows: number[]; unterminated: boolean[]; duplicate?: string } {
  const smallest = new SmallestN(capacity);
  const rowsOf: number[] = [];
  const unterminatedOf: boolean[] = [];
  for (const { periodKey, label, chunks } of periods) {
    const offerLine = (line: string, where: string) => {
      const itemId = referenceIdOf(line, where);
      const id = `${periodKey}/${itemId}`;
      smallest.offer({ hmac: referenceDigest(seed, id), id, periodKey, itemId, line });
    };
    let rows = 0;
    let rest = Buffer.alloc(0);
    for (const chunk of chunks) {
      const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      let end = data.indexOf(10, start);
      while (end !== -1) {
        rows += 1;
        offerLine(data.toString('utf8', start, end + 1), `${label} line ${rows}`);
        start = end + 1;
        end = data.indexOf(10, start);
      }
      rest = Buffer.from(data.subarray(start));
    }
    rowsOf.push(rows);
    unterminatedOf.push(rest.length > 0);
  }
  const picked = smallest.sorted();
  let duplicate: string | undefined;
  for (let index = 1; index < picked.length && duplicate === undefined; index += 1) {
    if (picked[index]?.id === picked[index - 1]?.id)
      duplicate = `item id ${picked[index]?.id} occurs more than once in the population: ids must be unique`;
  }
  return { picked, rows: rowsOf, unterminated: unterminatedOf, ...(duplicate ? { duplicate } : {}) };
}
