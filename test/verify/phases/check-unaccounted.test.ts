import { describe, expect, it } from 'vitest';
import { checkUnaccounted } from '../../../lib/verify/check-unaccounted.ts';
import { fileOf } from '../memory-archive.ts';

describe('checkUnaccounted', () => {
  it('explains each stray file by where it is, and notes an unsealed run and an unused key', () => {
    const sealed = 'evidence/c/monthly/2026-01/r1/';
    const files = new Map(
      [
        fileOf(`${sealed}manifest.json`, '{}'),
        fileOf(`${sealed}extra.txt`, 'x'),
        fileOf('evidence/c/monthly/2026-02/r2/result.json', 'x'),
        fileOf('evidence/stray', 'x'),
        fileOf('notes.txt', 'x'),
      ].map((file) => [file.path, file] as const),
    );
    const phase = checkUnaccounted({
      files,
      accounted: new Set([`${sealed}manifest.json`]),
      manifestPaths: [`${sealed}manifest.json`],
      keys: ['a'.repeat(64)],
      keyUse: new Map(),
    });
    expect(phase.problems.map((p) => [p.code, p.file])).toEqual([
      ['unexpected-file', `${sealed}extra.txt`],
      ['unexpected-file', 'evidence/stray'],
      ['unexpected-file', 'notes.txt'],
    ]);
    expect(phase.problems[0]?.message).toContain('added after the run was sealed');
    // A run folder without a manifest is crash residue: nothing points at it, so it is only a note.
    expect(phase.notes.map((n) => [n.code, n.periodKey])).toEqual([
      ['unsealed-run', '2026-02'],
      ['unused-key', undefined],
    ]);
  });
  it('checks reports against export.json: altered and missing', () => {
    const files = new Map([['index.html', fileOf('index.html', 'edited')]]);
    const phase = checkUnaccounted({
      files,
      accounted: new Set(),
      manifestPaths: [],
      exportInfo: {
        kind: 'soc2-evidence/export',
        schemaVersion: 1,
        tool: { name: 'soc2-evidence', version: '0' },
        exportedAt: '2027-01-01T00:00:00Z',
        range: {},
        bucket: 'b',
        counts: { controls: 0, manifests: 0, evidenceObjects: 0, evidenceBytes: 0 },
        reports: [
          { path: 'index.html', size: 1, sha256: '0'.repeat(64) },
          { path: 'VERIFY.md', size: 1, sha256: '0'.repeat(64) },
        ],
      },
      keys: [],
      keyUse: new Map(),
    });
    expect(phase.problems.map((p) => [p.code, p.file])).toEqual([
      ['report-altered', 'index.html'],
      ['report-missing', 'VERIFY.md'],
    ]);
  });
});
