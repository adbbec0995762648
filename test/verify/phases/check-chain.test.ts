import { describe, expect, it } from 'vitest';
import { checkChain } from '../../../lib/verify/check-chain.ts';
import { checkManifests } from '../../../lib/verify/check-manifests.ts';
import { readPublicKeys } from '../../../lib/verify/read-public-keys.ts';
import { runResult } from '../evidence-fixture.ts';
import { MemoryArchive, testKey } from '../memory-archive.ts';

function chainOf(months: string[], range = {}) {
  const archive = new MemoryArchive();
  const key = testKey();
  const recorded = months.map((month) =>
    archive.record(runResult({ controlId: 'c', cadence: 'monthly', periodKey: month }), key),
  );
  const run = () => {
    const { manifests } = checkManifests(archive.files, readPublicKeys(archive.files).keys);
    return checkChain({ controlId: 'c', manifests, files: archive.files, range, isTrusted: () => false });
  };
  return { archive, recorded, run };
}

describe('checkChain', () => {
  it('links a whole chain and picks its head', () => {
    const { recorded, run } = chainOf(['2026-01', '2026-02', '2026-03']);
    const phase = run();
    expect(phase.problems).toEqual([]);
    expect(phase.head?.path).toBe(recorded[2]?.manifestKey);
    expect(phase.orphans.size).toBe(0);
  });
  it('names a manifest deleted from the middle, with its control and period', () => {
    const { archive, recorded, run } = chainOf(['2026-01', '2026-02', '2026-03']);
    archive.files.delete(recorded[1]?.manifestKey ?? '');
    const phase = run();
    expect(phase.problems.map((p) => [p.code, p.file, p.periodKey])).toEqual([
      ['manifest-missing', recorded[1]?.manifestKey, '2026-02'],
    ]);
  });
  it('treats a predecessor before the range as the chain entering it', () => {
    const { archive, recorded, run } = chainOf(['2025-12', '2026-01'], { from: '2026-01-01' });
    archive.files.delete(recorded[0]?.manifestKey ?? '');
    const phase = run();
    expect(phase.problems).toEqual([]);
    expect(phase.entersRange.size).toBe(1);
    expect(phase.notes.map((n) => n.code)).toEqual(['chain-before-range']);
  });
});
