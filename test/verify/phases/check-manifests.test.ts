import { describe, expect, it } from 'vitest';
import { signatureKeyFor } from '../../../lib/evidence/evidence-layout.ts';
import { checkManifests } from '../../../lib/verify/check-manifests.ts';
import { readPublicKeys } from '../../../lib/verify/read-public-keys.ts';
import { runResult } from '../evidence-fixture.ts';
import { MemoryArchive, testKey } from '../memory-archive.ts';

function oneRun() {
  const archive = new MemoryArchive();
  const key = testKey();
  const recorded = archive.record(
    runResult({ controlId: 'c', cadence: 'monthly', periodKey: '2026-01' }),
    key,
  );
  return { archive, key, recorded };
}

describe('checkManifests', () => {
  it('accepts a signed manifest whose artifact matches, and counts it', () => {
    const { archive, recorded } = oneRun();
    const phase = checkManifests(archive.files, readPublicKeys(archive.files).keys);
    expect(phase.problems).toEqual([]);
    expect(phase.manifests.map((m) => m.path)).toEqual([recorded.manifestKey]);
    expect(phase.signaturesValid).toBe(1);
    expect(phase.artifactsChecked).toBe(1);
    expect(phase.accounted).toHaveLength(3);
  });
  it('names a missing signature, an altered artifact and an untrusted key', () => {
    const { archive, key, recorded } = oneRun();
    archive.files.delete(signatureKeyFor(recorded.manifestKey));
    const artifact = recorded.manifest.artifacts[0]?.key ?? '';
    archive.put(artifact, 'changed');
    const phase = checkManifests(archive.files, readPublicKeys(archive.files).keys, {
      trusted: new Set(['f'.repeat(64)]),
    });
    expect(phase.problems.map((p) => [p.code, p.controlId, p.periodKey])).toEqual([
      ['signature-missing', 'c', '2026-01'],
      ['artifact-altered', 'c', '2026-01'],
    ]);
    expect(key.fingerprint).not.toBe('f'.repeat(64));
  });
  it('uses a precomputed signature result instead of checking again', () => {
    const { archive, recorded } = oneRun();
    const file = archive.files.get(recorded.manifestKey);
    const fingerprint = recorded.manifest.signing.keyFingerprint;
    const phase = checkManifests(archive.files, readPublicKeys(archive.files).keys, {
      signatureResults: new Map([[`${fingerprint}:${file?.sha256}:${recorded.signature}`, false]]),
    });
    expect(phase.problems.map((p) => p.code)).toEqual(['signature-invalid']);
  });
});
