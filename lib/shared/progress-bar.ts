/** Something to draw on: stderr, when it is a terminal. */
export interface ProgressSink {
  write(text: string): unknown;
}

export interface ProgressBar {
  update(done: number, total: number | undefined, bytes: number): void;
  finish(): void;
}

const WIDTH = 28;

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A one-line bar redrawn in place (`\r`), at most ~10 times a second so drawing never costs
 * throughput: `export [########..........] 3120/10000 objects, 41.0 MB, 12.5 MB/s`.
 */
export function makeProgressBar(
  sink: ProgressSink,
  label: string,
  unit: string,
  clock: () => number = Date.now,
  /** Show sizes and throughput in MB; off for counts of things that have no size (jobs). @default true */
  showBytes = true,
): ProgressBar {
  const started = clock();
  let lastDraw = 0;
  let drawn = false;
  const draw = (done: number, total: number | undefined, bytes: number) => {
    const elapsed = Math.max(0.001, (clock() - started) / 1000);
    const fraction = total ? Math.min(1, done / total) : 0;
    const filled = Math.round(fraction * WIDTH);
    const bar = total ? `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ` : '';
    const count = total ? `${done}/${total}` : String(done);
    const rate = showBytes
      ? `, ${megabytes(bytes)}, ${megabytes(bytes / elapsed)}/s`
      : `, ${(done / elapsed).toFixed(1)} ${unit}/s`;
    sink.write(`\r${label} ${bar}${count} ${unit}${rate}\u001b[K`);
    drawn = true;
  };
  let last: [number, number | undefined, number] = [0, undefined, 0];
  return {
    update(done, total, bytes) {
      last = [done, total, bytes];
      const now = clock();
      if (now - lastDraw < 100 && done !== total) return;
      lastDraw = now;
      draw(done, total, bytes);
    },
    finish() {
      draw(...last);
      if (drawn) sink.write('\n');
    },
  };
}

export const silentProgress: ProgressBar = { update: () => {}, finish: () => {} };
