import { describe, expect, it } from 'vitest';
import { checkChain } from '../../../lib/verify/check-chain.ts';
import { checkCoverage } from '../../../lib/verify/check-coverage.ts';
import { checkManifests } from '../../../lib/verify/check-manifests.ts';
import { readPublicKeys } from '../../../lib/verify/read-public-keys.ts';
import { runResult } from '../evidence-fixture.ts';
import { MemoryArchive, testKey } from '../memory-archive.ts';

function coverageOf(months: string[], asOf: string) {
  const archive = new MemoryArchive();
  const key = testKey();
  for (const month of months)
    archive.record(runResult({ controlId: 'c', cadence: 'monthly', periodKey: month }), key);
  const { manifests } = checkManifests(archive.files, readPublicKeys(archive.files).keys);
  const range = { from: '2026-01-01', to: '2026-12-31' };
  const chain = checkChain({
    controlId: 'c',
    manifests,
    files: archive.files,
    range,
    isTrusted: () => false,
  });
  return checkCoverage({ controlId: 'c', manifests, chain, range, asOf: new Date(asOf) });
}

describe('checkCoverage', () => {
  it('counts every due period covered', () => {
    const phase = coverageOf(['2026-01', '2026-02'], '2026-03-05T00:00:00Z');
    expect(phase.problems).toEqual([]);
    expect(phase.draft).toMatchObject({ expectedPeriods: 2, coveredPeriods: 2, missingPeriods: [] });
  });
  it('reports a gap as period-missing and a missing end as chain-truncated', () => {
    const phase = coverageOf(['2026-01', '2026-03'], '2026-05-05T00:00:00Z');
    expect(phase.problems.map((p) => [p.code, p.periodKey])).toEqual([
      ['period-missing', '2026-02'],
      ['chain-truncated', '2026-04'],
    ]);
    expect(phase.draft.missingPeriods).toEqual(['2026-02', '2026-04']);
  });
});
