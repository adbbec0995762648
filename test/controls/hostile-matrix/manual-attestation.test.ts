import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { makeS3ObjectStore } from '../../../lib/adapters/s3/s3-object-store.ts';
import { EvidenceLog } from '../../../lib/controls/outcome.ts';
import type { ControlPorts, ObjectStorePort } from '../../../lib/controls/ports.ts';
import { nextPeriod, periodContaining, previousPeriod } from '../../../lib/shared/period.ts';
import { startTestEnvironment, type TestEnvironment } from '../../support/test-environment.ts';
import { runTest } from '../control-harness.ts';
import { describeMatrix } from './cell-test.ts';
import { manualAttestationMatrix } from './cells/manual-attestation.ts';

/** Uploads are stamped now, so the cells judge the year that contains now, with asOf planted around the stamps. */
const THIS_YEAR = periodContaining('annual', new Date(), 'UTC');

let env: TestEnvironment;
let objects: ObjectStorePort;

async function upload(key: string, body: string): Promise<Date> {
  await env.clients.s3.send(
    new PutObjectCommand({ Bucket: env.resources.evidenceBucket, Key: key, Body: body }),
  );
  const listed = await objects.list(env.resources.evidenceBucket, key, new EvidenceLog());
  const stamp = listed.find((object) => object.key === key)?.lastModified;
  if (!stamp) throw new Error(`upload ${key} not listed`);
  return stamp;
}

function attest(
  cell: string,
  options: {
    asOf?: Date;
    periodKey?: string;
    test?: Record<string, unknown>;
    ports?: Partial<ControlPorts>;
  } = {},
) {
  return runTest({
    test: { type: 'manual-attestation', prefix: `ma/${cell}/`, expects: 'tabletop notes', ...options.test },
    cadence: 'annual',
    periodKey: options.periodKey ?? THIS_YEAR.key,
    asOf: options.asOf ?? new Date(Date.now() + 60_000),
    ports: options.ports ?? { objects },
  });
}
const NOTES = '# Tabletop exercise\nScenario: leaked credentials.\n';

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  objects = makeS3ObjectStore(env.clients.s3, env.resources.evidenceBucket);
});
afterAll(async () => env?.stop());

describeMatrix('manual-attestation', manualAttestationMatrix, {
  'control-upload-in-period': async () => {
    await upload('ma/control/notes.md', NOTES);
    return attest('control');
  },
  'empty-prefix': () => attest('empty'),
  'folder-marker-only': async () => {
    await upload('ma/marker/', '');
    return attest('marker');
  },
  'zero-byte-upload': async () => {
    await upload('ma/zero/notes.md', '');
    return attest('zero');
  },
  'folder-key-with-body': async () => {
    await upload('ma/folder_body/notes/', NOTES);
    return attest('folder_body');
  },
  'uploaded-on-cutoff': async () =>
    attest('on_cutoff', { asOf: await upload('ma/on_cutoff/notes.md', NOTES) }),
  'uploaded-just-before-cutoff': async () => {
    const stamp = await upload('ma/before_cutoff/notes.md', NOTES);
    return attest('before_cutoff', { asOf: new Date(stamp.getTime() + 1) });
  },
  'uploaded-after-check': async () => {
    const stamp = await upload('ma/after_check/notes.md', NOTES);
    return attest('after_check', { asOf: new Date(stamp.getTime() - 1000) });
  },
  'outlier-previous-period': async () => {
    await upload('ma/previous/notes.md', NOTES);
    const next = nextPeriod(THIS_YEAR);
    return attest('previous', { periodKey: next.key, asOf: new Date(next.start.getTime() + 86_400_000) });
  },
  'duplicate-copies': async () => {
    await upload('ma/duplicates/notes.md', NOTES);
    await upload('ma/duplicates/notes-copy.md', NOTES);
    return attest('duplicates', { test: { minObjects: 2 } });
  },
  'look-alike-period-folder': async () => {
    await upload(`ma/lookalike/${THIS_YEAR.key}\n/notes.md`, NOTES);
    return attest('lookalike', { test: { prefix: 'ma/lookalike/{period}/' } });
  },
  'bucket-missing': () => attest('missing_bucket', { test: { bucket: 'no-such-bucket-here' } }),
  'no-object-reader': () => attest('no_reader', { ports: {} }),
  'stale-other-period-folder': async () => {
    await upload(`ma/stale/${previousPeriod(THIS_YEAR).key}/notes.md`, NOTES);
    return attest('stale', { test: { prefix: 'ma/stale/{period}/' } });
  },
});
