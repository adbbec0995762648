import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../lib/cli/export-command.ts';
import { exportInfoSchema } from '../../lib/export/export-info.ts';
import { verifyPath } from '../../lib/verify/verify-path.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { EXPORTED_AT, exportYear, seedYear, YEAR, zipEntries } from './export-fixture.ts';

// ajv-formats is CommonJS; under ESM its function sits on `default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

let env: TestEnvironment;
let work: string;
let validateAssessmentResults: ValidateFunction;

beforeAll(async () => {
  env = await startTestEnvironment({ postgres: false });
  work = await mkdtemp(join(tmpdir(), 'soc2-export-'));
  await seedYear(env);
  const schema = JSON.parse(
    readFileSync(new URL('../fixtures/oscal/oscal_assessment-results_schema.json', import.meta.url), 'utf8'),
  );
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  validateAssessmentResults = ajv.compile(schema);
});

afterAll(async () => {
  await env?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('export by date range', () => {
  it('streams every artifact, manifest, signature and key of the range, plus the reports, into one zip', async () => {
    const out = join(work, 'year.zip');
    const progress: number[] = [];
    const result = await exportYear(env, out, {
      extraFiles: { 'oscal/poam.json': { 'plan-of-action-and-milestones': { stub: true } } },
      onProgress: (p) => progress.push(p.objects),
    });

    const entries = await zipEntries(out);
    const names = [...entries.keys()];
    const evidence = names.filter(
      (name) => name.startsWith('evidence/') && !name.startsWith('evidence/_public-keys/'),
    );
    expect(evidence.filter((name) => name.endsWith('/manifest.json'))).toHaveLength(14);
    expect(evidence.filter((name) => name.endsWith('/manifest.sig'))).toHaveLength(14);
    expect(evidence.filter((name) => name.endsWith('/result.json'))).toHaveLength(14);
    expect(names.filter((name) => name.startsWith('evidence/_public-keys/'))).toHaveLength(1);
    expect(names.some((name) => name.includes('/2025-12/'))).toBe(false);
    expect(names.some((name) => name.includes('dead00'))).toBe(false);
    expect(names).toEqual(
      expect.arrayContaining([
        'index.html',
        'oscal/assessment-results.json',
        'VERIFY.md',
        'oscal/poam.json',
        'export.json',
      ]),
    );
    expect(names.at(-1)).toBe('export.json');

    expect(result).toMatchObject({ controls: 2, manifests: 14, evidenceObjects: 44, unsealedFolders: 1 });
    expect(result.counts).toEqual({ pass: 11, fail: 2, error: 1, missing: 2 });
    expect(progress.at(-1)).toBe(44);

    const info = exportInfoSchema.parse(JSON.parse(entries.get('export.json')?.toString() ?? ''));
    expect(info).toMatchObject({
      exportedAt: EXPORTED_AT.toISOString(),
      range: YEAR,
      counts: { manifests: 14, evidenceObjects: 44 },
    });
    expect(info.reports.map((report) => report.path)).toEqual([
      'index.html',
      'oscal/assessment-results.json',
      'VERIFY.md',
      'sign-offs.json',
      'oscal/poam.json',
    ]);
    expect(entries.get('VERIFY.md')?.toString()).toContain(
      'soc2-evidence verify evidence-export.zip --trusted-key',
    );
  });

  it('produces an archive the verifier accepts except for the periods that never ran', async () => {
    const out = join(work, 'verify-me.zip');
    await exportYear(env, out);
    const report = await verifyPath(out);
    expect(report.problems.map((problem) => [problem.code, problem.controlId, problem.periodKey])).toEqual([
      ['chain-truncated', 'access-review', '2026-Q4'],
      ['chain-truncated', 'audit-log', '2026-12'],
    ]);
    expect(report.notes.map((note) => note.code)).toEqual(['chain-before-range']);
    expect(report.signaturesValid).toBe(14);
  });

  it('writes OSCAL 1.0.4 Assessment Results valid against the official schema, one finding per control and period', async () => {
    const out = join(work, 'oscal.zip');
    await exportYear(env, out);
    const document = JSON.parse(
      (await zipEntries(out)).get('oscal/assessment-results.json')?.toString() ?? '{}',
    );

    const valid = validateAssessmentResults(document);
    expect(validateAssessmentResults.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    const [result] = document['assessment-results'].results;
    expect(result.observations).toHaveLength(14);
    expect(result.findings).toHaveLength(16);
    const june = result.findings.find((finding: { title: string }) =>
      finding.title.startsWith('audit-log 2026-06'),
    );
    expect(june.target.status).toEqual({ state: 'not-satisfied', reason: 'fail' });
    const observation = result.observations.find(
      (candidate: { uuid: string }) => candidate.uuid === june['related-observations'][0]['observation-uuid'],
    );
    expect(observation['relevant-evidence'][0].href).toMatch(
      /^evidence\/audit-log\/monthly\/2026-06\/.+\/result\.json$/,
    );
    const december = result.findings.find((finding: { title: string }) =>
      finding.title.startsWith('audit-log 2026-12'),
    );
    expect(december.description).toContain('No evidence was recorded');
  });

  it('exports a single control with --control', async () => {
    const out = join(work, 'one.zip');
    const result = await exportYear(env, out, { controlId: 'access-review' });
    const names = [...(await zipEntries(out)).keys()];
    expect(result.manifests).toBe(3);
    expect(names.some((name) => name.startsWith('evidence/audit-log/'))).toBe(false);
  });
});

describe('soc2-evidence export', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        stdout: (t: string) => out.push(t),
        stderr: (t: string) => err.push(t),
        env: {} as Record<string, string>,
      },
    };
  };

  /** `export` arguments for the seeded year from the test bucket, plus any extra flags. */
  const yearArgs = (file: string, ...extra: string[]) => [
    '--from',
    YEAR.from,
    '--to',
    YEAR.to,
    '--out',
    file,
    '--bucket',
    env.resources.evidenceBucket,
    ...extra,
  ];

  it('writes the archive and prints a JSON summary without a progress bar', async () => {
    const file = join(work, 'cli.zip');
    const { out, err, io: cliIo } = io();
    const code = await exportCommand(
      yearArgs(file, '--json'),
      { ...cliIo, progress: { write: (t: string) => err.push(t) } },
      { clients: env.clients, clock: () => EXPORTED_AT },
    );
    expect(code).toBe(0);
    expect(err).toEqual([]);
    const summary = JSON.parse(out.join(''));
    expect(summary).toMatchObject({
      out: file,
      manifests: 14,
      counts: { pass: 11, fail: 2, error: 1, missing: 2 },
    });
    expect(summary.archiveBytes).toBe((await readFile(file)).length);
  });

  it('draws progress on the terminal sink when not --json', async () => {
    const { out, io: cliIo } = io();
    const drawn: string[] = [];
    const code = await exportCommand(
      [
        '--from',
        YEAR.from,
        '--to',
        YEAR.to,
        '--out',
        join(work, 'bar.zip'),
        '--bucket',
        env.resources.evidenceBucket,
      ],
      { ...cliIo, progress: { write: (t: string) => drawn.push(t) } },
      { clients: env.clients, clock: () => EXPORTED_AT },
    );
    expect(code).toBe(0);
    expect(drawn.join('')).toMatch(/export \[#+\] 44\/44 objects/);
    expect(out.join('\n')).toMatch(
      /14 run\(s\) of 2 control\(s\).*\n.*11 passed, 2 failed, 1 could not be checked, 2 without evidence/,
    );
  });

  it('uploads to exports/ with --presign and prints a URL that downloads the same archive', async () => {
    const file = join(work, 'shared.zip');
    const { out, io: cliIo } = io();
    const code = await exportCommand(yearArgs(file, '--presign', '--json', '--expires-in', '3600'), cliIo, {
      clients: env.clients,
      clock: () => EXPORTED_AT,
    });
    expect(code).toBe(0);
    const { presigned } = JSON.parse(out.join(''));
    expect(presigned.key).toBe('exports/shared.zip');
    expect(presigned.url).toContain('X-Amz-Expires=3600');
    const response = await fetch(presigned.url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(await readFile(file))).toBe(true);
  });

  it('prints the real validity of the link: the signing session expiring in 1 h cuts --expires-in 12 h to 1 h', async () => {
    const file = join(work, 'short-session.zip');
    const credentialsExpireAt = new Date(Date.now() + 3_600_000);
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: env.services.awsEnv.AWS_ENDPOINT_URL_S3 ?? '',
      forcePathStyle: true,
      // What an assumed role's session resolves to: keys, token, and when they stop working.
      credentials: {
        accessKeyId: 'ASIATESTSESSION',
        secretAccessKey: 'session-secret',
        sessionToken: 'session-token',
        expiration: credentialsExpireAt,
      },
    });
    const { out, io: cliIo } = io();
    const code = await exportCommand(yearArgs(file, '--presign', '--expires-in', '43200'), cliIo, {
      clients: { s3 },
      clock: () => EXPORTED_AT,
    });
    s3.destroy();
    expect(code).toBe(0);
    const text = out.join('\n');
    const until = /the link works until (\S+) \((.+)\):/.exec(text);
    expect(until?.[2]).toBe('1 h');
    const expiresAt = new Date(until?.[1] ?? '');
    expect(expiresAt.getTime()).toBeLessThanOrEqual(credentialsExpireAt.getTime());
    expect(credentialsExpireAt.getTime() - expiresAt.getTime()).toBeLessThan(60_000);
    expect(text).toContain(
      `Shorter than the 12 h asked for: the session credentials that signed it expire at ${credentialsExpireAt.toISOString()}`,
    );
    // The URL itself carries the real lifetime, not the 43200 s asked for.
    const signedFor = Number(/X-Amz-Expires=(\d+)/.exec(text)?.[1]);
    expect(signedFor).toBeGreaterThan(3_500);
    expect(signedFor).toBeLessThanOrEqual(3_600);
  });

  it('keeps --expires-in when the credentials never expire, and says nothing about them', async () => {
    const file = join(work, 'long-keys.zip');
    const { out, io: cliIo } = io();
    const code = await exportCommand(yearArgs(file, '--presign', '--expires-in', '43200'), cliIo, {
      clients: env.clients,
      clock: () => EXPORTED_AT,
    });
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/the link works until \S+ \(12 h\):/);
    expect(text).toContain('X-Amz-Expires=43200');
    expect(text).not.toContain('Shorter than');
  });

  it("adds the config's risk register as an OSCAL POA&M valid against the official schema", async () => {
    const file = join(work, 'with-poam.zip');
    const { io: cliIo } = io();
    const code = await exportCommand(
      yearArgs(file, '--json'),
      { ...cliIo, progress: { write: () => {} } },
      { clients: env.clients, clock: () => EXPORTED_AT },
    );
    expect(code).toBe(0);
    // The default config (soc2-evidence.yaml at the repository root) has a risk register.
    const poam = JSON.parse((await zipEntries(file)).get('oscal/poam.json')?.toString() ?? '{}');
    const poamAjv = new Ajv({ strict: false, allErrors: true });
    addFormats(poamAjv);
    const validatePoam = poamAjv.compile(
      JSON.parse(readFileSync(new URL('../fixtures/oscal/oscal_poam_schema.json', import.meta.url), 'utf8')),
    );
    expect(validatePoam(poam)).toBe(true);
    const items = poam['plan-of-action-and-milestones']['poam-items'] as { title: string }[];
    expect(items.map((item) => item.title).join('\n')).toMatch(/R9/);
  });

  it('exits 2 with the reason on bad usage', async () => {
    const cases: [string[], RegExp][] = [
      [['--to', '2026-12-31', '--out', 'x.zip', '--bucket', 'b'], /--from and --to are required/],
      [['--from', '2026-12-31', '--to', '2026-01-01', '--out', 'x.zip', '--bucket', 'b'], /after --to/],
      [
        ['--from', '2026-01-01', '--to', '2026-12-31', '--out', 'x.zip'],
        /no evidence bucket: pass --bucket or set SOC2_EVIDENCE_BUCKET/,
      ],
      [
        [
          '--from',
          '2026-01-01',
          '--to',
          '2026-12-31',
          '--out',
          'x.zip',
          '--bucket',
          'b',
          '--control',
          'Bad Id',
        ],
        /not a control id/,
      ],
      [['--nope'], /Unknown option '--nope'/],
    ];
    for (const [argv, message] of cases) {
      const { err, io: cliIo } = io();
      expect(await exportCommand(argv, cliIo, { clients: env.clients })).toBe(2);
      expect(err.join('\n')).toMatch(message);
    }
  });
});
