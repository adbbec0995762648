import { describe, expect, it } from 'vitest';
import {
  buildManifest,
  ManifestError,
  parseManifest,
  serializeManifest,
} from '../../lib/evidence/manifest.ts';
import { runResult } from '../verify/evidence-fixture.ts';

const FINGERPRINT = 'a'.repeat(64);
const artifact = {
  key: 'evidence/c/monthly/2026-11/r/result.json',
  size: 10,
  sha256: 'b'.repeat(64),
  contentType: 'application/json',
};

function manifestFor(
  run = runResult({ controlId: 'c', cadence: 'monthly', periodKey: '2026-11' }),
  timeZone = 'UTC',
) {
  return buildManifest({
    run,
    timeZone,
    artifacts: [artifact],
    sequence: 1,
    previous: null,
    keyFingerprint: FINGERPRINT,
    publicKeyKey: `evidence/_public-keys/${FINGERPRINT}.pem`,
  });
}

describe('manifest', () => {
  it('expires when the next period closes and its run is due', () => {
    expect(manifestFor().expiresAt).toBe('2027-01-01T00:00:00.000Z');
    const weekly = manifestFor(runResult({ controlId: 'c', cadence: 'weekly', periodKey: '2026-W53' }));
    expect(weekly.period).toMatchObject({
      start: '2026-12-28T00:00:00.000Z',
      end: '2027-01-04T00:00:00.000Z',
    });
    expect(weekly.expiresAt).toBe('2027-01-11T00:00:00.000Z');
  });

  it('records the period in the configured time zone', () => {
    const run = runResult({
      controlId: 'c',
      cadence: 'monthly',
      periodKey: '2026-11',
      timeZone: 'America/New_York',
    });
    const manifest = manifestFor(run, 'America/New_York');
    expect(manifest.period).toEqual({
      cadence: 'monthly',
      key: '2026-11',
      start: '2026-11-01T04:00:00.000Z',
      end: '2026-12-01T05:00:00.000Z',
      timeZone: 'America/New_York',
    });
  });

  it('serialises canonically, so equal content gives identical signed bytes', () => {
    const manifest = manifestFor();
    const reordered = Object.fromEntries(Object.entries(manifest).reverse()) as typeof manifest;
    expect(serializeManifest(reordered).equals(serializeManifest(manifest))).toBe(true);
    expect(parseManifest(serializeManifest(manifest))).toEqual(manifest);
  });

  it('names the offending field when stored bytes are not a manifest', () => {
    const bytes = Buffer.from(JSON.stringify({ ...manifestFor(), chain: { sequence: 0, previous: null } }));
    expect(() => parseManifest(bytes)).toThrow(/chain\.sequence/);
    expect(() => parseManifest(Buffer.from('{oops'))).toThrow(ManifestError);
  });
});
