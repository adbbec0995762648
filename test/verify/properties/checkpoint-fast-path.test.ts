import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_KIND,
  CheckpointError,
  checkpointSigningBytes,
  parseSignedCheckpoint,
  type SignedCheckpoint,
  serializeSignedCheckpoint,
  signedCheckpointBytes,
  signedCheckpointFastPath,
  signedCheckpointSchema,
} from '../../../lib/evidence/checkpoint.ts';
import {
  distinctValues,
  expectSameAsZod,
  type FastPathUnderTest,
  hostileValues,
  mutate,
  mutations,
  singlePointMutations,
} from './fast-path-harness.ts';

/**
 * The hand-written checkpoint fast path against zod (see manifest-fast-path.test.ts for the
 * method), and the stored form built around the signing bytes against serializeSignedCheckpoint.
 *   SOC2_PBT_RUNS=5000 npx vitest run test/verify/properties/checkpoint-fast-path.test.ts
 */
const NUM_RUNS = Number(process.env.SOC2_PBT_RUNS ?? 200);
const SEED = Number(process.env.SOC2_PBT_SEED ?? 20261202);

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const text = fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom('é', '"quoted"', 'line\nbreak', '\u2028'));
const cadence = fc.constantFrom('daily', 'weekly', 'monthly', 'quarterly', 'annual');
const listed = fc.record({
  sequence: fc.integer({ min: 1, max: 10_000 }),
  key: text,
  sha256: hex64,
  periodKey: text,
});
const chain = fc.record({
  kind: fc.constantFrom('scheduled', 'events'),
  cadence,
  head: fc.option(listed, { nil: null }),
  added: fc.array(listed, { maxLength: 4 }),
});
const day = fc
  .date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
  .map((date) => date.toISOString().slice(0, 10));
const signed = fc
  .record({
    checkpoint: fc.record(
      {
        kind: fc.constant(CHECKPOINT_KIND),
        schemaVersion: fc.constant(1),
        sequence: fc.integer({ min: 1, max: 5000 }),
        writtenAt: fc.oneof(
          fc
            .date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
            .map((d) => d.toISOString()),
          fc.constant('2026-11-25T11:00:00+01:00'),
        ),
        timeZone: fc.constantFrom('UTC', 'Europe/Berlin'),
        configSha256: hex64,
        previous: fc.option(
          fc.record({
            sequence: fc.integer({ min: 1, max: 5000 }),
            key: text,
            sha256: hex64,
            signature: text,
          }),
          { nil: null },
        ),
        controls: fc.array(
          fc.record({ id: text, cadence, addedOn: day, chains: fc.array(chain, { maxLength: 2 }) }),
          { maxLength: 3 },
        ),
        signOffs: fc.array(
          fc.record({
            id: text,
            cadence,
            head: fc.option(listed, { nil: null }),
            added: fc.array(listed, { maxLength: 2 }),
          }),
          { maxLength: 1 },
        ),
        signing: fc.record({
          algorithm: fc.constant('ECDSA_P256_SHA256'),
          keyFingerprint: hex64,
          publicKeyKey: text,
        }),
        tool: fc.record({ name: fc.constant('soc2-evidence'), version: fc.string() }),
      },
      {
        requiredKeys: [
          'kind',
          'schemaVersion',
          'sequence',
          'writtenAt',
          'timeZone',
          'configSha256',
          'previous',
          'controls',
          'signing',
          'tool',
        ],
      },
    ),
    signature: text,
  })
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown);

const hostile = hostileValues([CHECKPOINT_KIND, 'annual', '2026-1-01']);
const subject: FastPathUnderTest = {
  noun: 'checkpoint',
  schema: signedCheckpointSchema,
  fastPath: signedCheckpointFastPath,
  parse: parseSignedCheckpoint,
  errorClass: CheckpointError,
};
const expectSame = (json: unknown) => expectSameAsZod(subject, json);
const hasSignOffs = (json: unknown) => Object.hasOwn((json as { checkpoint: object }).checkpoint, 'signOffs');

// Generous: zod parses thousands of mutated objects, and the shared machines run at load 10+.
describe('checkpoint fast path', { timeout: 120_000 }, () => {
  it('returns exactly what zod returns for generated valid checkpoints (sign-off chains go to zod)', () => {
    let fast = 0;
    fc.assert(
      fc.property(signed, (json) => {
        const path = expectSame(json);
        expect(path).toBe(hasSignOffs(json) ? 'declined' : 'fast');
        if (path === 'fast') fast += 1;
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    );
    expect(fast).toBeGreaterThan(NUM_RUNS / 10);
  });

  it('never accepts a mutated checkpoint zod rejects, and words errors as zod does', () => {
    let rejected = 0;
    fc.assert(
      fc.property(signed, fc.array(mutations(hostile), { minLength: 1, maxLength: 2 }), (json, specs) => {
        const mutated = specs.reduce(mutate, json);
        expectSame(mutated);
        if (!signedCheckpointSchema.safeParse(mutated).success) rejected += 1;
      }),
      { numRuns: NUM_RUNS * 3, seed: SEED },
    );
    expect(rejected).toBeGreaterThan(NUM_RUNS);
  });

  it('agrees with zod on every single-point mutation of sampled checkpoints (each path, each value)', () => {
    const samples = fc
      .sample(signed, { numRuns: 40, seed: SEED })
      .filter((json) => signedCheckpointFastPath(json) !== undefined)
      .slice(0, 3);
    expect(samples.length).toBe(3);
    const values = distinctValues(hostile, SEED);
    let tried = 0;
    for (const json of samples) {
      for (const mutated of singlePointMutations(json, values)) {
        expectSame(mutated);
        tried += 1;
      }
    }
    expect(tried).toBeGreaterThan(1000);
  });

  it('builds the stored form around the signing bytes exactly as serializeSignedCheckpoint does', () => {
    fc.assert(
      fc.property(signed, (json) => {
        const parsed = parseSignedCheckpoint(Buffer.from(JSON.stringify(json))) as SignedCheckpoint;
        expect(
          signedCheckpointBytes(checkpointSigningBytes(parsed.checkpoint), parsed.signature).equals(
            serializeSignedCheckpoint(parsed),
          ),
        ).toBe(true);
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    );
  });
});
