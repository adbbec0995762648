import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3ObjectStore } from '../../lib/adapters/s3/s3-object-store.ts';
import type { ObjectStorePort } from '../../lib/controls/ports.ts';
import { periodContaining, previousPeriod } from '../../lib/shared/period.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { runTest } from './control-harness.ts';

describe('manual-attestation', () => {
  let env: TestEnvironment;
  let objects: ObjectStorePort;
  // Uploads are stamped with the real time, so "this year" is the period that contains them.
  const asOf = new Date(Date.now() + 60_000);
  const thisYear = periodContaining('annual', asOf, 'UTC');
  const lastYear = previousPeriod(thisYear);

  async function upload(key: string, body: string) {
    const bytes = Buffer.from(body);
    await env.clients.s3.send(
      new PutObjectCommand({
        Bucket: env.resources.evidenceBucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.length,
      }),
    );
  }
  const run = (periodKey: string, test: Record<string, unknown>) =>
    runTest({
      test: { type: 'manual-attestation', ...test },
      cadence: 'annual',
      periodKey,
      asOf,
      ports: { objects },
    });

  beforeAll(async () => {
    env = await startTestEnvironment({ postgres: false });
    objects = makeS3ObjectStore(env.clients.s3, env.resources.evidenceBucket);
  });
  afterAll(async () => env?.stop());

  it('passes when evidence was uploaded during the period, fingerprinting each object', async () => {
    await upload('tabletop/notes.md', '# Tabletop exercise\nScenario: leaked credentials.\n');
    const { outcome, evidence } = await run(thisYear.key, { prefix: 'tabletop/' });
    expect(outcome.verdict).toBe('pass');
    expect(outcome.figures).toEqual({ objects: 1, required: 1 });
    const fingerprint = evidence.entries.find((entry) => entry.kind === 'object');
    expect(fingerprint).toMatchObject({ key: `s3://${env.resources.evidenceBucket}/tabletop/notes.md` });
    expect(fingerprint && 'sha256' in fingerprint ? fingerprint.sha256 : '').toMatch(/^[0-9a-f]{64}$/);
  });

  it('fails with "evidence not provided" when nothing was uploaded', async () => {
    const { outcome } = await run(thisYear.key, {
      prefix: 'never-uploaded/',
      expects: 'the signed tabletop report',
    });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons[0]).toMatch(
      /^evidence not provided: expected the signed tabletop report uploaded under s3:\/\/.*\/never-uploaded\/ during \d{4}$/,
    );
  });

  it('does not count an upload made after the period ended', async () => {
    await upload('late/report.pdf', '%PDF-1.7 late');
    const { outcome } = await run(lastYear.key, { prefix: 'late/' });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.warnings[0]).toContain(
      `1 objects under s3://${env.resources.evidenceBucket}/late/ were uploaded outside ${lastYear.key}`,
    );
  });

  it("counts a late upload into the period's own folder", async () => {
    await upload(`ir/${lastYear.key}/tabletop.pdf`, '%PDF-1.7 tabletop');
    const { outcome } = await run(lastYear.key, { prefix: 'ir/{period}/' });
    expect(outcome.verdict).toBe('pass');
    expect((outcome.details as { location: string }).location).toContain(`/ir/${lastYear.key}/`);
  });

  it("fails when the period's own folder is empty, even if other periods have evidence", async () => {
    await upload(`ir2/${thisYear.key}/tabletop.pdf`, '%PDF-1.7 this year');
    const { outcome } = await run(lastYear.key, { prefix: 'ir2/{period}/' });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.reasons[0]).toMatch(
      new RegExp(`^evidence not provided: .* under s3://.*/ir2/${lastYear.key}/ for ${lastYear.key}$`),
    );
  });

  it('does not accept empty objects as evidence', async () => {
    await upload('empty/placeholder.txt', '');
    const { outcome } = await run(thisYear.key, { prefix: 'empty/' });
    expect(outcome.verdict).toBe('fail');
    expect(outcome.warnings).toContain(
      `1 empty objects under s3://${env.resources.evidenceBucket}/empty/ were not counted as evidence`,
    );
  });

  it('errors when the bucket does not exist', async () => {
    const { outcome } = await run(thisYear.key, { prefix: 'tabletop/', bucket: 'missing-attestations' });
    expect(outcome.verdict).toBe('error');
    expect(outcome.reasons[0]).toContain('the bucket does not exist');
  });
});
