import { describe, expect, it } from 'vitest';
import { manualAttestationParamsSchema } from '../../lib/controls/manual-attestation.ts';
import { runTest } from './control-harness.ts';
import { type MemoryObject, memoryObjects } from './memory-objects.ts';

/**
 * Manual attestation's decisions on the uploads it lists: the upload window, the per-period folder,
 * empty and folder-marker objects, the minimum count, and what is fingerprinted. The S3 adapter runs
 * in manual-attestation.test.ts against fauxqs.
 */
const AS_OF = '2026-12-01T06:00:00.000Z';
const PREFIX = 'attestations/ir/';

function check(objects: readonly MemoryObject[], test: Record<string, unknown> = {}, asOf = AS_OF) {
  const store = memoryObjects(objects);
  const run = runTest({
    test: { type: 'manual-attestation', prefix: PREFIX, ...test },
    cadence: 'monthly',
    periodKey: '2026-11',
    asOf,
    ports: { objects: store.port },
  });
  return { run, store };
}

const file = (name: string, lastModified: string, size?: number): MemoryObject => ({
  key: `${PREFIX}${name}`,
  body: 'minutes of the tabletop',
  lastModified,
  ...(size === undefined ? {} : { size }),
});

describe('manual attestation verdicts', () => {
  it('passes one non-empty upload during the period, fingerprinting it into the evidence', async () => {
    const { run, store } = check([file('tabletop.pdf', '2026-11-15T10:00:00Z')]);
    const { outcome } = await run;
    expect(outcome).toMatchObject({
      verdict: 'pass',
      reasons: [],
      warnings: [],
      figures: { objects: 1, required: 1 },
    });
    expect(outcome.details).toEqual({
      location: 's3://evidence-bucket/attestations/ir/',
      window: { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' },
      expects: 'evidence of the activity',
      accepted: [
        {
          key: 'attestations/ir/tabletop.pdf',
          size: 23,
          lastModified: '2026-11-15T10:00:00.000Z',
          sha256: 'sha256-of-attestations/ir/tabletop.pdf',
        },
      ],
      acceptedNotFingerprinted: 0,
      emptyObjects: [],
      listedObjects: 1,
    });
    expect(store.listed).toEqual([{ bucket: 'evidence-bucket', prefix: PREFIX }]);
  });

  it('counts an upload at the period start, and not one at its end or before it', async () => {
    expect((await check([file('a.pdf', '2026-11-01T00:00:00Z')]).run).outcome.verdict).toBe('pass');
    const outside = await check([
      file('a.pdf', '2026-12-01T00:00:00Z'),
      file('b.pdf', '2026-10-31T23:59:59.999Z'),
    ]).run;
    expect(outside.outcome.verdict).toBe('fail');
    expect(outside.outcome.reasons).toEqual([
      'evidence not provided: expected evidence of the activity uploaded under s3://evidence-bucket/attestations/ir/ during 2026-11',
    ]);
    expect(outside.outcome.warnings).toEqual([
      '2 objects under s3://evidence-bucket/attestations/ir/ were uploaded outside 2026-11 and do not count for it',
    ]);
  });

  it('ends the window at asOf for a run before the period ended', async () => {
    const early = await check([file('a.pdf', '2026-11-20T00:00:00Z')], {}, '2026-11-20T00:00:00Z').run;
    expect(early.outcome.verdict).toBe('fail');
    expect(early.outcome.details).toMatchObject({ window: { to: '2026-11-20T00:00:00.000Z' } });
  });

  it('does not count empty objects or folder markers, and warns about the empty ones', async () => {
    const { outcome } = await check([
      file('empty.pdf', '2026-11-10T00:00:00Z', 0),
      { key: `${PREFIX}folder/`, body: 'x', lastModified: '2026-11-10T00:00:00Z' },
    ]).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.warnings[0]).toBe(
      '1 empty objects under s3://evidence-bucket/attestations/ir/ were not counted as evidence',
    );
    expect(outcome.details).toMatchObject({ emptyObjects: ['attestations/ir/empty.pdf'], listedObjects: 2 });
  });

  it('does not report folder markers as uploads outside the period', async () => {
    // The S3 console creates `folder/` keys; they are neither evidence nor a late upload.
    const { outcome } = await check([
      { key: `${PREFIX}2026-11/`, body: '', lastModified: '2026-11-02T00:00:00Z', size: 0 },
      { key: `${PREFIX}2025/`, body: '', lastModified: '2025-01-02T00:00:00Z', size: 0 },
      file('old.pdf', '2026-10-01T00:00:00Z'),
    ]).run;
    expect(outcome.verdict).toBe('fail');
    expect(outcome.warnings).toEqual([
      '1 objects under s3://evidence-bucket/attestations/ir/ were uploaded outside 2026-11 and do not count for it',
    ]);
  });

  it('requires minObjects distinct uploads, saying how many were found, and passes at exactly that many', async () => {
    const two = [file('a.pdf', '2026-11-10T00:00:00Z'), file('b.pdf', '2026-11-11T00:00:00Z')];
    const short = await check(two, { minObjects: 3, expects: 'the signed tabletop minutes' }).run;
    expect(short.outcome.reasons).toEqual([
      'evidence not provided: expected the signed tabletop minutes uploaded under s3://evidence-bucket/attestations/ir/ during 2026-11 (2 of 3 distinct objects)',
    ]);
    expect(short.outcome.figures).toEqual({ objects: 2, required: 3 });
    expect((await check(two, { minObjects: 2 }).run).outcome.verdict).toBe('pass');
  });

  it('does not warn about uploads outside the period when every listed object is inside it', async () => {
    expect((await check([]).run).outcome).toMatchObject({ verdict: 'fail', warnings: [] });
    const onlyEmpty = await check([file('empty.pdf', '2026-11-10T00:00:00Z', 0)]).run;
    expect(onlyEmpty.outcome.warnings).toEqual([
      '1 empty objects under s3://evidence-bucket/attestations/ir/ were not counted as evidence',
    ]);
  });

  it('does not warn about uploads outside the period once the period has its evidence', async () => {
    const { outcome } = await check([
      file('a.pdf', '2026-11-10T00:00:00Z'),
      file('old.pdf', '2026-01-01T00:00:00Z'),
    ]).run;
    expect(outcome).toMatchObject({ verdict: 'pass', warnings: [] });
  });

  it('fingerprints at most maxObjects, in key order, and counts the rest', async () => {
    const objects = ['c.pdf', 'a.pdf', 'b.pdf'].map((name) => file(name, '2026-11-10T00:00:00Z'));
    const { run, store } = check(objects, { maxObjects: 2 });
    const { outcome } = await run;
    expect(store.fingerprinted).toEqual(['attestations/ir/a.pdf', 'attestations/ir/b.pdf']);
    expect(outcome.details).toMatchObject({ acceptedNotFingerprinted: 1 });
    expect(outcome.figures).toMatchObject({ objects: 3 });
  });

  it('with a {period} folder, lists that folder and counts a late upload into it', async () => {
    const objects: MemoryObject[] = [
      { key: 'attestations/ir/2026-11/minutes.pdf', body: 'x', lastModified: '2027-01-15T00:00:00Z' },
    ];
    const { run, store } = check(objects, { prefix: 'attestations/ir/{period}/' });
    const { outcome } = await run;
    expect(outcome.verdict).toBe('pass');
    expect(store.listed).toEqual([{ bucket: 'evidence-bucket', prefix: 'attestations/ir/2026-11/' }]);
    expect(outcome.details).toMatchObject({
      location: 's3://evidence-bucket/attestations/ir/2026-11/',
      window: { from: null, to: null },
    });
    const missing = await check([], { prefix: 'attestations/ir/{period}/' }).run;
    expect(missing.outcome.reasons).toEqual([
      'evidence not provided: expected evidence of the activity uploaded under s3://evidence-bucket/attestations/ir/2026-11/ for 2026-11',
    ]);
  });

  it('errors without an object store port', async () => {
    const { outcome } = await runTest({
      test: { type: 'manual-attestation', prefix: PREFIX },
      cadence: 'monthly',
      periodKey: '2026-11',
      asOf: AS_OF,
      ports: {},
    });
    expect(outcome).toMatchObject({
      verdict: 'error',
      reasons: [
        'this deployment provides no S3 object reader (objects port), so the control cannot be checked',
      ],
    });
  });
});

describe('manual attestation parameters', () => {
  const parse = (extra: Record<string, unknown>) =>
    manualAttestationParamsSchema.safeParse({ type: 'manual-attestation', prefix: PREFIX, ...extra });

  it('documents its defaults and bounds', () => {
    expect(parse({}).data).toEqual({
      type: 'manual-attestation',
      prefix: PREFIX,
      expects: 'evidence of the activity',
      minObjects: 1,
      maxObjects: 20,
    });
    expect(parse({ minObjects: 0 }).success).toBe(false);
    expect(parse({ minObjects: 101 }).success).toBe(false);
    expect(parse({ maxObjects: 1001 }).success).toBe(false);
    expect(parse({ expects: '' }).success).toBe(false);
    expect(parse({ expects: 'x'.repeat(301) }).success).toBe(false);
  });
});
