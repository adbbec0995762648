import { describe, expect, it } from 'vitest';
import { readExportInfo } from '../../../lib/verify/read-export-info.ts';
import { fileOf } from '../memory-archive.ts';

const valid = {
  kind: 'soc2-evidence/export',
  schemaVersion: 1,
  tool: { name: 'soc2-evidence', version: '0.1.0' },
  exportedAt: '2027-01-05T00:00:00.000Z',
  range: { from: '2026-01-01', to: '2026-12-31' },
  bucket: 'b',
  counts: { controls: 1, manifests: 1, evidenceObjects: 1, evidenceBytes: 1 },
  reports: [],
};

describe('readExportInfo', () => {
  it('is absent without export.json', () => {
    expect(readExportInfo(new Map())).toEqual({ present: false, problems: [] });
  });
  it('reads a valid export.json', () => {
    const phase = readExportInfo(new Map([['export.json', fileOf('export.json', JSON.stringify(valid))]]));
    expect(phase.exportInfo?.range).toEqual({ from: '2026-01-01', to: '2026-12-31' });
    expect(phase.problems).toEqual([]);
  });
  it('reports an invalid one but still accounts for it', () => {
    const phase = readExportInfo(
      new Map([['export.json', fileOf('export.json', JSON.stringify({ ...valid, extra: 1 }))]]),
    );
    expect(phase.present).toBe(true);
    expect(phase.exportInfo).toBeUndefined();
    expect(phase.problems.map((p) => p.code)).toEqual(['export-info-invalid']);
  });
});
