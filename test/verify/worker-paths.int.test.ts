import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import { zipStream } from '../../lib/export/zip-writer.ts';
import { type ArchiveFile, countNewlines, countsLines, keepsContent } from '../../lib/verify/archive-file.ts';
import { HashPool, HashWorkerError } from '../../lib/verify/hash-pool.ts';
import { SignaturePrecheck, signatureCheckKey } from '../../lib/verify/signature-precheck.ts';
import { type VerificationReport, verifyArchive } from '../../lib/verify/verify-archive.ts';
import { readEvidence, verifyPath } from '../../lib/verify/verify-path.ts';
import { testKey } from './memory-archive.ts';
import { AS_OF, buildHistory, type HistorySpec, RANGE } from './properties/histories.ts';
import { MUTATION_KINDS, mutate } from './properties/mutations.ts';

/**
 * The worker threads (hashing, zip inflation, signature batches) must change nothing but speed:
 * verify through them gives the very report the pure, single-threaded verifier gives for the same
 * bytes, for legitimate and tampered histories, as a folder and as a zip; a signature the workers
 * reject is the same named problem; a worker that dies makes verify fail, never pass.
 */

const signers = [makeLocalSigner(), makeLocalSigner()] as const;
const forger = testKey();
let work: string;
let written = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'soc2-worker-paths-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The bucket's files on disk as a rooted folder (`evidence/...`, `checkpoints/...`) and as a zip. */
async function onDisk(files: ReadonlyMap<string, ArchiveFile>): Promise<{ folder: string; zip: string }> {
  written += 1;
  const folder = join(work, `folder-${written}`);
  for (const file of files.values()) {
    const path = join(folder, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content ?? Buffer.alloc(0));
  }
  const zip = join(work, `archive-${written}.zip`);
  const chunks: Buffer[] = [];
  const mtime = new Date('2026-04-02T00:00:00Z');
  for await (const chunk of zipStream(
    [...files.values()].map((file) => ({
      name: file.path,
      mtime,
      open: () => file.content ?? Buffer.alloc(0),
    })),
    { level: 6 },
  ))
    chunks.push(chunk as Buffer);
  await writeFile(zip, Buffer.concat(chunks));
  return { folder, zip };
}

/**
 * What a reader hands the verifier for these bytes, built on this thread without any worker: a
 * folder's files in path order, a zip's in archive order (the order {@link onDisk} wrote them).
 */
function readHere(files: ReadonlyMap<string, ArchiveFile>, kind: 'folder' | 'zip'): VerificationReport {
  const read = new Map<string, ArchiveFile>();
  let bytes = 0;
  const ordered = kind === 'zip' ? [...files] : [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [path, file] of ordered) {
    const content = file.content ?? Buffer.alloc(0);
    read.set(path, {
      path,
      size: file.size,
      sha256: file.sha256,
      ...(keepsContent(path) ? { content } : {}),
      ...(countsLines(path) ? { lines: countNewlines(content) } : {}),
    });
    bytes += file.size;
  }
  return verifyArchive(
    {
      kind,
      source: 'here',
      files: read,
      bytes,
      ...(kind === 'zip' ? { duplicates: [] } : { irregular: [] }),
    },
    { asOf: AS_OF, range: RANGE },
  );
}

const comparable = (report: VerificationReport) => {
  const { source: _source, ...rest } = report;
  return rest;
};

const histories: HistorySpec[] = [
  {
    controls: [
      { cadence: 'daily', addedAfterDays: 0 },
      { cadence: 'monthly', addedAfterDays: 10 },
    ],
    rotateAt: 0.5,
    validatorRuns: 2,
    seed: 9,
  },
  {
    controls: [
      { cadence: 'weekly', addedAfterDays: 3 },
      { cadence: 'quarterly', addedAfterDays: 0 },
      { cadence: 'daily', addedAfterDays: 25 },
    ],
    rotateAt: null,
    validatorRuns: 0,
    seed: 31,
  },
];

describe('verify through the worker threads', { timeout: 240_000 }, () => {
  it('reports exactly what the single-threaded verifier reports, for legitimate and tampered histories, folder and zip', async () => {
    let compared = 0;
    let tampered = 0;
    for (const [which, spec] of histories.entries()) {
      const history = await buildHistory(spec, signers);
      const variants = [history.files];
      // Each kind of mutation once, alternating between the histories (files on disk are slow).
      MUTATION_KINDS.forEach((kind, index) => {
        if (index % histories.length !== which) return;
        const mutated = mutate(
          history.files,
          { kind, pick: index * 7 + spec.seed, pick2: index + 1 },
          forger,
        );
        if (mutated) variants.push(mutated.files);
      });
      for (const files of variants) {
        const { folder, zip } = await onDisk(files);
        for (const [path, kind] of [
          [folder, 'folder'],
          [zip, 'zip'],
        ] as const) {
          const threaded = await verifyPath(path, { asOf: AS_OF, range: RANGE });
          expect(comparable(threaded), `${kind} ${path}`).toEqual(comparable(readHere(files, kind)));
          compared += 1;
        }
        if (files !== history.files) tampered += 1;
      }
    }
    // Both forms of every variant; most mutation kinds apply to these histories.
    expect(tampered).toBeGreaterThan(MUTATION_KINDS.length / 2);
    expect(compared).toBe((tampered + histories.length) * 2);
  });

  it('names a malformed signature the workers rejected exactly as before: file, control and period', async () => {
    const history = await buildHistory(histories[0] as HistorySpec, signers);
    const files = new Map(history.files);
    const manifestPath = [...files.keys()].filter((path) => path.endsWith('/manifest.json')).sort()[3] ?? '';
    const signaturePath = manifestPath.replace(/manifest\.json$/, 'manifest.sig');
    // Canonical base64, so it reaches the ECDSA check, but not a DER signature: verify() throws on it.
    const malformed = Buffer.from('not a DER-encoded ECDSA signature').toString('base64');
    const original = files.get(signaturePath);
    expect(original).toBeDefined();
    files.set(signaturePath, { ...(original as ArchiveFile), content: Buffer.from(malformed) });
    const { folder, zip } = await onDisk(files);

    // The check ran on a worker (in a batch with the other manifests) and said no.
    const pool = new HashPool();
    try {
      const precheck = new SignaturePrecheck(pool);
      const contents = await readEvidence(folder, { pool, onFile: (file) => precheck.onFile(file) });
      const results = await precheck.results();
      const manifest = contents.files.get(manifestPath);
      const fingerprint = manifest?.content?.toString('utf8').match(/"keyFingerprint":"([0-9a-f]{64})"/)?.[1];
      expect(results.get(signatureCheckKey(fingerprint ?? '', manifest?.sha256 ?? '', malformed))).toBe(
        false,
      );
      expect([...results.values()].filter((valid) => valid).length).toBeGreaterThan(10);
    } finally {
      await pool.close();
    }

    for (const path of [folder, zip]) {
      const report = await verifyPath(path, { asOf: AS_OF, range: RANGE });
      const invalid = report.problems.filter((problem) => problem.code === 'signature-invalid');
      expect(invalid).toHaveLength(1);
      expect(invalid[0]).toMatchObject({ file: manifestPath });
      expect(invalid[0]?.controlId).toMatch(/^control-/);
      expect(invalid[0]?.periodKey).toMatch(/^2026-/);
      expect(invalid[0]?.message).toContain('signature does not match the manifest');
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual(readHere(files, 'folder').problems);
    }
  });

  it('fails, never passes, when a worker dies (out of memory), for a folder and a zip', async () => {
    const history = await buildHistory(histories[1] as HistorySpec, signers);
    const { folder, zip } = await onDisk(history.files);
    // The same evidence verifies with healthy workers.
    expect((await verifyPath(folder, { asOf: AS_OF, range: RANGE })).ok).toBe(true);
    const starved = { resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } };
    for (const path of [folder, zip]) {
      const outcome = await verifyPath(path, { asOf: AS_OF, range: RANGE, workers: starved }).then(
        (report) => report,
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(HashWorkerError);
      expect((outcome as Error).message).toMatch(/a verify worker failed/);
    }
  });

  it('rejects the batches of a pool that stops, instead of leaving them waiting forever', async () => {
    const pool = new HashPool({ size: 1 });
    const history = await buildHistory(histories[1] as HistorySpec, signers);
    const { folder } = await onDisk(history.files);
    const paths = [...history.files.keys()].map((path) => join(folder, path));
    const batch = pool.run({ kind: 'files', paths, keep: paths.map(() => false) });
    batch.catch(() => {});
    await pool.close();
    await expect(batch).rejects.toBeInstanceOf(HashWorkerError);
    await expect(pool.run({ kind: 'files', paths: [], keep: [] })).rejects.toBeInstanceOf(HashWorkerError);
  });
});
