import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ZipFile } from 'yazl';
import { makeDynamoResultsStore } from '../../lib/adapters/dynamodb/dynamodb-results.ts';
import { makeS3EvidenceReader } from '../../lib/adapters/s3/s3-evidence-reader.ts';
import { computeReadiness } from '../../lib/audit/readiness.ts';
import { documentHashes, readVerdicts } from '../../lib/cli/audit-command.ts';
import { signOffCommand } from '../../lib/cli/sign-off-command.ts';
import { loadConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import { makeVerdictHistory } from '../../lib/controls/verdict-history.ts';
import { generateLocalSigningKey, makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import { writeCheckpoint } from '../../lib/evidence/write-checkpoint.ts';
import { exportArchive } from '../../lib/export/export-archive.ts';
import { CONTROL_REVIEW_KIND, type DecisionsFile } from '../../lib/reviews/control-review.ts';
import type { RunResult } from '../../lib/runs/run-record.ts';
import { periodFromKey } from '../../lib/shared/period.ts';
import { verifyPath } from '../../lib/verify/verify-path.ts';
import { makeCheckpointDeps } from '../../lib/wiring/make-checkpoint-deps.ts';
import { makeChainHistory } from '../../lib/wiring/make-sign-off-deps.ts';
import { runTest } from '../controls/control-harness.ts';
import { zipEntries } from '../export/export-fixture.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { type EvidenceFixture, evidenceFixture } from '../verify/evidence-fixture.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'soc2-evidence.mjs');

const CONFIG = `
owners:
  - { id: security, name: Security, email: security@example.com }
targets:
  - { name: app, connection: { env: APP_URL } }
controls:
  - id: access-review
    title: Dormant and departed accounts are disabled
    criteria: [CC6.1, CC6.2]
    cadence: quarterly
    owner: security
    addedOn: 2026-07-01
    review: required
    test: { type: access-review, target: app, schema: app, table: users }
documents:
  - { id: infosec-policy, title: Information security policy, path: policy.md, owner: security, reviewCadence: annual }
readiness: { base: none }
`;

/** An access review's run for 2026-Q3: alice dormant, bob dormant and active after his removal. */
function accessReviewRun(
  runId: string,
  extra: { account: string; lastLogin: string | null }[] = [],
): RunResult {
  const period = periodFromKey('quarterly', '2026-Q3', 'UTC');
  const finished = new Date(period.end.getTime() + 3_600_000).toISOString();
  const row = (account: string, lastLogin: string | null, removedAt: string | null = null) => ({
    account,
    enabled: true,
    lastLogin,
    createdAt: null,
    removedAt,
  });
  return {
    controlId: 'access-review',
    criteria: ['CC6.1', 'CC6.2'],
    owner: 'security',
    cadence: 'quarterly',
    periodKey: '2026-Q3',
    periodStart: period.start.toISOString(),
    periodEnd: period.end.toISOString(),
    runId,
    asOf: period.end.toISOString(),
    startedAt: finished,
    finishedAt: finished,
    outcome: {
      verdict: 'fail',
      reasons: ['2 enabled accounts have had no successful login for P90D: alice, bob'],
      warnings: [],
      figures: { accounts: 10, dormant: 2 + extra.length, activeAfterRemoval: 1 },
      details: {
        dormant: [
          row('alice', '2026-03-02T10:00:00.000Z'),
          row('bob', null),
          ...extra.map((e) => row(e.account, e.lastLogin)),
        ],
        dormantTruncated: false,
        activeAfterRemoval: [row('bob', null, '2026-08-01T00:00:00.000Z')],
        activeAfterRemovalTruncated: false,
      },
    },
    entries: [],
  };
}

interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('review sign-offs: control periods and documents, as signed evidence', { timeout: 240_000 }, () => {
  let env: TestEnvironment;
  let work: string;
  let configPath: string;
  let cliEnv: Record<string, string>;
  let fixture: EvidenceFixture;
  let config: Config;
  const keyPem = generateLocalSigningKey();
  const signer = makeLocalSigner({ privateKeyPem: keyPem });

  const cli = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await signOffCommand([...argv, '--config', configPath], {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
      env: cliEnv,
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  };
  const spawnCli = (args: readonly string[]): Promise<ProcessResult> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            ...cliEnv,
          },
          timeout: 110_000,
        },
        (error, stdout, stderr) => {
          const code = error && typeof error.code === 'number' ? error.code : error ? null : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
    });
  const decisionsFile = async (name: string, decisions: DecisionsFile['decisions'], evidence?: string) => {
    const path = join(work, name);
    await writeFile(
      path,
      JSON.stringify({
        control: 'access-review',
        period: '2026-Q3',
        ...(evidence ? { evidence } : {}),
        decisions,
      }),
    );
    return path;
  };
  const results = () => makeDynamoResultsStore(env.clients.dynamodb, env.resources.resultsTable);
  const recordAccessReview = async (run: RunResult) => {
    const stored = await fixture.record(run);
    await results().recordAttempt({
      controlId: run.controlId,
      cadence: run.cadence,
      periodKey: run.periodKey,
      periodStart: run.periodStart,
      periodEnd: run.periodEnd,
      verdict: run.outcome.verdict,
      reasons: run.outcome.reasons,
      warnings: run.outcome.warnings,
      figures: run.outcome.figures,
      runId: run.runId,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      ...stored,
    });
    return stored;
  };
  const scheduleHealth = async (asOf: string) =>
    (
      await runTest({
        test: { type: 'schedule-health' },
        controlId: 'schedule-health',
        cadence: 'daily',
        periodKey: asOf.slice(0, 10),
        asOf,
        // Run by today's clock, as of a past instant: the sign-offs below are recorded now (after
        // `asOf`), and schedule health counts only those recorded by the instant it runs.
        now: new Date().toISOString(),
        ports: { verdictHistory: makeVerdictHistory(config.controls, results()) },
      })
    ).outcome;
  const readiness = async (asOf: string) =>
    computeReadiness({
      config,
      window: { asOf: new Date(asOf), from: '2026-01-01', timeZone: 'UTC' },
      verdicts: (await readVerdicts(config, cliEnv, { reviews: true })) ?? [],
      documentSha256: await documentHashes(config, configPath),
    });
  const exportZip = async (name: string) => {
    const zip = join(work, name);
    await exportArchive({
      reader: makeS3EvidenceReader(env.clients.s3, env.resources.evidenceBucket),
      bucket: env.resources.evidenceBucket,
      range: { from: '2026-01-01', to: '2026-12-31' },
      output: createWriteStream(zip),
    });
    return zip;
  };
  const rezip = async (entries: Map<string, Buffer>, name: string) => {
    const path = join(work, name);
    const out = new ZipFile();
    for (const [entry, bytes] of entries) out.addBuffer(bytes, entry);
    out.end();
    await pipeline(out.outputStream, createWriteStream(path));
    return path;
  };

  beforeAll(async () => {
    env = await startTestEnvironment({ postgres: false });
    work = await mkdtemp(join(tmpdir(), 'review-sign-off-'));
    configPath = join(work, 'soc2-evidence.yaml');
    await writeFile(configPath, CONFIG);
    await writeFile(join(work, 'policy.md'), '# Information security policy\n\nv1\n');
    await writeFile(join(work, 'signing-key.pem'), keyPem);
    cliEnv = {
      ...env.services.awsEnv,
      SOC2_LOCAL_SIGNING_KEY_FILE: join(work, 'signing-key.pem'),
      SOC2_EVIDENCE_BUCKET: env.resources.evidenceBucket,
      SOC2_RESULTS_TABLE: env.resources.resultsTable,
    };
    config = await loadConfig(configPath);
    fixture = evidenceFixture(env, signer);
  });
  afterAll(async () => {
    await env?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses to review a period that has no evidence yet (exit 1), and bad usage (exit 2), as a process', async () => {
    const [noEvidence, noSubject, badPeriod] = await Promise.all([
      spawnCli([
        'sign-off',
        '--control',
        'access-review',
        '--period',
        '2026-Q3',
        '--template',
        '--config',
        configPath,
      ]),
      spawnCli(['sign-off', '--by', 'Ada', '--role', 'Security Officer', '--config', configPath]),
      spawnCli([
        'sign-off',
        '--control',
        'access-review',
        '--period',
        '2026-11',
        '--template',
        '--config',
        configPath,
      ]),
    ]);
    expect(noEvidence.code).toBe(1);
    expect(noEvidence.stderr).toContain('access-review quarterly 2026-Q3 has no verdict');
    expect(noSubject.code).toBe(2);
    expect(noSubject.stderr).toContain('expected exactly one of --control ID or --document ID');
    expect(badPeriod.code).toBe(2);
    expect(badPeriod.stderr).toContain('--period');
  });

  it('reports the period incomplete in schedule health until it is signed off', async () => {
    await recordAccessReview(accessReviewRun('20261001T010000Z-000001'));
    const health = await scheduleHealth('2026-11-24T05:00:00Z');
    expect(health.verdict).toBe('fail');
    expect(health.reasons).toEqual([
      'access-review: 2026-Q3 has no review sign-off (due 2026-10-15; `soc2-evidence sign-off --control access-review --period 2026-Q3`)',
    ]);
    expect(health.figures.reviewsMissing).toBe(1);
    // Within reviewWithin (14 days after the quarter), nothing is owed yet.
    expect((await scheduleHealth('2026-10-10T05:00:00Z')).reasons).toEqual([]);
    const model = await readiness('2026-11-24T05:00:00Z');
    expect(model.items.find((i) => i.id === 'control-reviews')?.status).toBe('not-ready');
  });

  it('writes a template with every flagged account and refuses it until each is decided (exit 1, accounts named)', async () => {
    const templatePath = join(work, 'decisions.yaml');
    const template = await cli([
      '--control',
      'access-review',
      '--period',
      '2026-Q3',
      '--template',
      '--output',
      templatePath,
    ]);
    expect(template).toMatchObject({ code: 0 });
    expect(template.stdout).toContain('2 flagged account(s)');
    const parsed = parseYaml(await readFile(templatePath, 'utf8')) as DecisionsFile;
    expect(parsed.decisions?.map((d) => d.account)).toEqual(['alice', 'bob']);

    const blank = await spawnCli([
      'sign-off',
      '--control',
      'access-review',
      '--period',
      '2026-Q3',
      '--by',
      'Ada Lovelace',
      '--role',
      'Security Officer',
      '--decisions',
      templatePath,
      '--config',
      configPath,
    ]);
    expect(blank.code).toBe(1);
    expect(blank.stderr).toContain('refused, nothing recorded');
    expect(blank.stderr).toContain('alice: no decision');
    expect(blank.stderr).toContain('bob: no decision');

    const sign = (path: string) =>
      cli([
        '--control',
        'access-review',
        '--period',
        '2026-Q3',
        '--by',
        'Ada Lovelace',
        '--role',
        'Security Officer',
        '--decisions',
        path,
      ]);
    const missing = await sign(
      await decisionsFile('missing.json', [{ account: 'alice', decision: 'removed' }]),
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'bob: flagged (dormant: never logged in; active after removal on 2026-08-01) but not decided',
    );
    const unjustified = await sign(
      await decisionsFile('unjustified.json', [
        { account: 'alice', decision: 'kept' },
        { account: 'bob', decision: 'removed' },
      ]),
    );
    expect(unjustified.code).toBe(1);
    expect(unjustified.stderr).toContain('alice: kept without a justification');
    const unknown = await sign(
      await decisionsFile('unknown.json', [
        { account: 'alice', decision: 'removed' },
        { account: 'bob', decision: 'removed' },
        { account: 'mallory', decision: 'removed' },
      ]),
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('mallory: not flagged');
    // Nothing was recorded by any refusal.
    expect((await scheduleHealth('2026-11-24T05:00:00Z')).figures.reviewsMissing).toBe(1);
  });

  it('records a complete sign-off (exit 0 as a process) bound to the reviewed manifest; the period is then complete', async () => {
    const decisions = await decisionsFile('complete.json', [
      {
        account: 'alice',
        decision: 'kept',
        justification: 'Parental leave until 2026-12; manager confirmed.',
      },
      { account: 'bob', decision: 'removed' },
    ]);
    const signed = await spawnCli([
      'sign-off',
      '--control',
      'access-review',
      '--period',
      '2026-Q3',
      '--by',
      'Ada Lovelace',
      '--role',
      'Security Officer',
      '--decisions',
      decisions,
      '--note',
      'Q3 access review',
      '--config',
      configPath,
    ]);
    expect(signed.code).toBe(0);
    expect(signed.stdout).toContain('2 flagged account(s): 1 removed, 1 kept.');
    expect(signed.stdout).toMatch(
      /Evidence: evidence\/access-review\.review\/quarterly\/2026-Q3\/.+\/manifest\.json/,
    );

    const history = await makeChainHistory(
      { clients: env.clients, bucket: env.resources.evidenceBucket, table: env.resources.resultsTable },
      'access-review.review',
      (document) => (document as { details?: { kind?: string } }).details,
    ).list();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      kind: CONTROL_REVIEW_KIND,
      by: 'Ada Lovelace',
      note: 'Q3 access review',
    });
    expect(JSON.stringify(history[0])).toContain('Parental leave');

    const health = await scheduleHealth('2026-11-24T05:00:00Z');
    expect(health.reasons).toEqual([]);
    expect(health.verdict).toBe('pass');
    expect(
      (await readiness('2026-11-24T05:00:00Z')).items.find((i) => i.id === 'control-reviews')?.status,
    ).toBe('ready');
  });

  it('makes the review owed again after a re-run of the period, and refuses the old decisions file', async () => {
    const before = (await results().verdictFor('access-review', 'quarterly', '2026-Q3'))?.manifestSha256;
    await recordAccessReview(
      accessReviewRun('20261002T010000Z-000002', [{ account: 'carol', lastLogin: null }]),
    );
    const health = await scheduleHealth('2026-11-24T05:00:00Z');
    expect(health.reasons.join('\n')).toMatch(
      /the sign-off of 2026-Q3 reviewed .* but the period was re-run since/,
    );
    const stale = await cli([
      '--control',
      'access-review',
      '--period',
      '2026-Q3',
      '--by',
      'Ada Lovelace',
      '--role',
      'Security Officer',
      '--decisions',
      await decisionsFile(
        'stale.json',
        [
          { account: 'alice', decision: 'removed' },
          { account: 'bob', decision: 'removed' },
          { account: 'carol', decision: 'removed' },
        ],
        before,
      ),
    ]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('re-run since');
    const again = await cli([
      '--control',
      'access-review',
      '--period',
      '2026-Q3',
      '--by',
      'Grace Hopper',
      '--role',
      'Security Officer',
      '--decisions',
      await decisionsFile('again.json', [
        { account: 'alice', decision: 'removed' },
        { account: 'bob', decision: 'removed' },
        { account: 'carol', decision: 'removed' },
      ]),
    ]);
    expect(again.code).toBe(0);
    expect((await scheduleHealth('2026-11-24T05:00:00Z')).reasons).toEqual([]);
  });

  it('records a document review with its content hash; an edit after approval makes it not current', async () => {
    expect(
      (await readiness(new Date().toISOString())).items.find((i) => i.id === 'security-policies')?.status,
    ).toBe('not-ready');
    const approved = await cli([
      '--document',
      'infosec-policy',
      '--by',
      'Ada Lovelace',
      '--role',
      'Security Officer',
    ]);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/Content: policy\.md \(\d+ bytes, SHA-256 [0-9a-f]{64}\)/);
    expect(
      (await readiness(new Date().toISOString())).items.find((i) => i.id === 'security-policies')?.status,
    ).toBe('ready');
    await writeFile(join(work, 'policy.md'), '# Information security policy\n\nv2, not yet approved\n');
    const changed = (await readiness(new Date().toISOString())).items.find(
      (i) => i.id === 'security-policies',
    );
    expect(changed?.status).toBe('not-ready');
    expect(changed?.reasons.join('\n')).toContain('changed since its approval');
    expect((await cli(['--document', 'nope', '--by', 'A', '--role', 'B'])).code).toBe(2);
  });

  it('exports the sign-offs and verifies; deleting the newest sign-off or editing one fails, naming it', async () => {
    await writeCheckpoint(
      makeCheckpointDeps({ config, resources: env.resources, clients: env.clients, signer }),
    );
    const zip = await exportZip('reviews.zip');
    const report = await verifyPath(zip);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.controls.find((c) => c.controlId === 'access-review.review')).toMatchObject({
      manifests: 2,
    });
    expect(report.controls.find((c) => c.controlId === 'document.infosec-policy.review')).toMatchObject({
      manifests: 1,
    });

    const entries = await zipEntries(zip);
    const reviewRuns = [...entries.keys()]
      .filter((name) => name.includes('/access-review.review/') && name.endsWith('/manifest.json'))
      .sort();
    expect(reviewRuns).toHaveLength(2);
    const newest = reviewRuns[1] ?? '';
    const runFolder = newest.slice(0, newest.lastIndexOf('/') + 1);
    const deleted = new Map([...entries].filter(([name]) => !name.startsWith(runFolder)));
    const afterDelete = await verifyPath(await rezip(deleted, 'deleted.zip'));
    expect(afterDelete.ok).toBe(false);
    const missing = afterDelete.problems.filter((p) => p.code === 'manifest-missing');
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ controlId: 'access-review.review', periodKey: '2026-Q3' });
    expect(missing[0]?.message).toContain(newest.slice(newest.indexOf('evidence/')));

    const result =
      [...entries.keys()].find((name) => name.startsWith(runFolder) && name.endsWith('result.json')) ?? '';
    const edited = new Map(entries);
    // One byte more in the sealed sign-off record (its reviewer, decisions and hash are all in it).
    edited.set(result, Buffer.concat([entries.get(result) ?? Buffer.alloc(0), Buffer.from(' ')]));
    expect(edited.get(result)?.equals(entries.get(result) ?? Buffer.alloc(0))).toBe(false);
    const afterEdit = await verifyPath(await rezip(edited, 'edited.zip'));
    expect(afterEdit.problems.map((p) => [p.code, p.controlId])).toEqual([
      ['artifact-altered', 'access-review.review'],
    ]);
  });
});
