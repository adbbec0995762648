import { createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { makeS3EvidenceReader } from '../../lib/adapters/s3/s3-evidence-reader.ts';
import { risksCommand } from '../../lib/cli/risks-command.ts';
import { loadConfig } from '../../lib/config/load-config.ts';
import { generateLocalSigningKey, makeLocalSigner } from '../../lib/evidence/local-signer.ts';
import { exportArchive } from '../../lib/export/export-archive.ts';
import { evaluateRegister, localDate, reviewEvidenceFindings } from '../../lib/risks/evaluate-register.ts';
import {
  buildSignOff,
  diffSnapshots,
  recordSignOff,
  SIGN_OFF_CHAIN_ID,
  snapshotOf,
} from '../../lib/risks/sign-off.ts';
import { verifyPath } from '../../lib/verify/verify-path.ts';
import { makeSignOffDeps, makeSignOffHistory } from '../../lib/wiring/make-sign-off-deps.ts';
import { zipEntries } from '../export/export-fixture.ts';
import { startTestEnvironment, type TestEnvironment } from '../support/test-environment.ts';
import { register, riskInput } from './fixtures.ts';

describe('sign-off records (pure)', () => {
  const base = register({
    risks: [riskInput({ id: 'R1' }), riskInput({ id: 'R2', likelihood: 4, impact: 4 })],
  });
  const at = new Date('2026-11-20T10:00:00Z');

  it('records who, when, the content hash and every change since the previous sign-off', () => {
    const first = buildSignOff({ register: base, timeZone: 'UTC', by: 'Ada', role: 'Founder', at });
    expect(first).toMatchObject({
      by: 'Ada',
      role: 'Founder',
      date: '2026-11-20',
      previous: null,
      note: null,
    });
    expect(first.changes.map((c) => `${c.riskId}:${c.field}`)).toEqual(['R1:added', 'R2:added']);

    const edited = register({
      risks: [
        riskInput({
          id: 'R2',
          likelihood: 3,
          impact: 4,
          residual: { likelihood: 2, impact: 4 },
          status: 'partial',
        }),
        riskInput({ id: 'R3', mitigation: 'New control.' }),
      ],
    });
    const second = buildSignOff({
      register: edited,
      timeZone: 'UTC',
      by: 'Grace',
      role: 'Security Officer',
      note: 'Q4 re-score',
      at: new Date('2026-11-21T10:00:00Z'),
      previous: first,
    });
    expect(second.registerSha256).not.toBe(first.registerSha256);
    expect(second.previous).toEqual({
      signedAt: first.signedAt,
      registerSha256: first.registerSha256,
      by: 'Ada',
    });
    expect(second.changes.map((c) => [c.riskId, c.field, c.from, c.to])).toEqual([
      ['R2', 'likelihood', 4, 3],
      ['R2', 'residual', null, { likelihood: 2, impact: 4 }],
      ['R2', 'status', 'mitigated', 'partial'],
      ['R3', 'added', null, expect.objectContaining({ id: 'R3' })],
      ['R1', 'removed', expect.objectContaining({ id: 'R1' }), null],
    ]);
    // The same content hashes the same however the YAML was formatted.
    expect(
      buildSignOff({ register: register(structuredClone(base)), timeZone: 'UTC', by: 'A', role: 'B', at })
        .registerSha256,
    ).toBe(first.registerSha256);
  });

  it('reports nothing changed when nothing did, and refuses a blank reviewer or a sign-off older than the last', () => {
    const first = buildSignOff({ register: base, timeZone: 'UTC', by: 'Ada', role: 'Founder', at });
    expect(diffSnapshots(snapshotOf(base), snapshotOf(base))).toEqual([]);
    expect(() => buildSignOff({ register: base, timeZone: 'UTC', by: '  ', role: 'Founder', at })).toThrow(
      /--by/,
    );
    expect(() =>
      buildSignOff({
        register: base,
        timeZone: 'UTC',
        by: 'Ada',
        role: 'F',
        at: new Date('2026-11-01'),
        previous: first,
      }),
    ).toThrow(/after/);
  });

  it.each([
    { signed: '2026-11-20', claimed: '2026-11-20', backed: true },
    { signed: '2026-11-27', claimed: '2026-11-20', backed: true },
    { signed: '2026-11-28', claimed: '2026-11-20', backed: false }, // 8 days later: too late to vouch for it
    { signed: '2026-11-19', claimed: '2026-11-20', backed: false }, // before the claimed review
  ])('backs lastReviewed $claimed with a sign-off on $signed: $backed', ({ signed, claimed, backed }) => {
    const reg = register({ risks: [riskInput({ id: 'R1', lastReviewed: claimed })] });
    const signOff = buildSignOff({
      register: reg,
      timeZone: 'UTC',
      by: 'Ada',
      role: 'F',
      at: new Date(`${signed}T12:00:00Z`),
    });
    expect(reviewEvidenceFindings(reg.risks, [signOff]).length === 0).toBe(backed);
  });

  it('does not let a sign-off of another lastReviewed back the claim', () => {
    const signed = register({ risks: [riskInput({ id: 'R1', lastReviewed: '2026-11-01' })] });
    const signOff = buildSignOff({
      register: signed,
      timeZone: 'UTC',
      by: 'A',
      role: 'F',
      at: new Date('2026-11-03T00:00:00Z'),
    });
    const claimed = register({ risks: [riskInput({ id: 'R1', lastReviewed: '2026-11-02' })] });
    const evaluation = evaluateRegister(claimed, {
      asOf: new Date('2026-11-05T00:00:00Z'),
      timeZone: 'UTC',
      signOffs: [signOff],
    });
    expect(evaluation.findings.map((f) => f.key)).toEqual(['R1/review-not-evidenced/2026-11-02']);
    expect(evaluation.findings[0]?.message).toContain('(review claimed, not evidenced)');
    // Without sign-offs read, the rule does not apply at all.
    expect(
      evaluateRegister(claimed, { asOf: new Date('2026-11-05T00:00:00Z'), timeZone: 'UTC' }).findings,
    ).toEqual([]);
  });
});

describe('incident-driven re-score', () => {
  const reg = register({
    risks: [riskInput({ id: 'R8', linkedControls: ['audit-log'], lastReviewed: '2026-10-15' })],
  });
  const failed = {
    controlId: 'audit-log',
    cadence: 'monthly' as const,
    periodKey: '2026-10',
    verdict: 'fail' as const,
    periodEnd: '2026-11-01T00:00:00.000Z',
  };
  const rescore = (asOf: string, lastReviewed?: string) =>
    evaluateRegister(
      lastReviewed
        ? register({ risks: [riskInput({ ...reg.risks[0], lastReviewed, linkedControls: ['audit-log'] })] })
        : reg,
      {
        asOf: new Date(asOf),
        timeZone: 'UTC',
        latestVerdicts: [failed],
      },
    ).findings.filter((f) => f.rule === 'incident-rescore');

  it('makes a re-score due one month after the failing period ends, then overdue', () => {
    expect(rescore('2026-11-10T00:00:00Z')).toEqual([
      expect.objectContaining({
        key: 'R8/incident-rescore/audit-log/monthly/2026-10',
        dueDate: '2026-12-01',
        severity: 'medium',
      }),
    ]);
    expect(rescore('2026-12-01T12:00:00Z')[0]?.daysOverdue).toBeUndefined();
    expect(rescore('2026-12-03T00:00:00Z')[0]).toMatchObject({ daysOverdue: 2, severity: 'high' });
  });

  it('is satisfied by a review on or after the failure, and not raised for an error verdict', () => {
    expect(rescore('2026-12-03T00:00:00Z', '2026-11-01')).toEqual([]);
    const errored = evaluateRegister(reg, {
      asOf: new Date('2026-12-03T00:00:00Z'),
      timeZone: 'UTC',
      latestVerdicts: [{ ...failed, verdict: 'error' }],
    });
    expect(errored.findings.map((f) => f.rule)).toEqual(['control-failing']);
  });

  it('uses the configured window', () => {
    const weekly = register({
      settings: { incidentRescoreWithin: 'weekly' },
      risks: [riskInput({ id: 'R8', linkedControls: ['audit-log'], lastReviewed: '2026-10-15' })],
    });
    const [finding] = evaluateRegister(weekly, {
      asOf: new Date('2026-11-10T00:00:00Z'),
      timeZone: 'UTC',
      latestVerdicts: [failed],
    }).findings.filter((f) => f.rule === 'incident-rescore');
    expect(finding).toMatchObject({ dueDate: '2026-11-08', daysOverdue: 2 });
  });
});

describe('soc2-evidence risks sign-off, recorded as signed evidence, exported and verified', () => {
  let env: TestEnvironment;
  let work: string;
  let cliEnv: Record<string, string>;
  const keyPem = generateLocalSigningKey();
  const cli = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await risksCommand(argv, {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
      env: cliEnv,
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  };

  beforeAll(async () => {
    env = await startTestEnvironment({ postgres: false });
    work = await mkdtemp(join(tmpdir(), 'risk-sign-off-'));
    await copyFile('soc2-evidence.yaml', join(work, 'soc2-evidence.yaml'));
    await copyFile('risk-register.yaml', join(work, 'risk-register.yaml'));
    await writeFile(join(work, 'signing-key.pem'), keyPem);
    cliEnv = {
      ...env.services.awsEnv,
      SOC2_LOCAL_SIGNING_KEY_FILE: join(work, 'signing-key.pem'),
      SOC2_EVIDENCE_BUCKET: env.resources.evidenceBucket,
      SOC2_RESULTS_TABLE: env.resources.resultsTable,
    };
  });
  afterAll(async () => {
    await env?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('flags every example risk "review claimed, not evidenced" before any sign-off', async () => {
    const { code, stdout } = await cli([
      '--config',
      join(work, 'soc2-evidence.yaml'),
      '--with-sign-offs',
      '--json',
    ]);
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as { findings: { rule: string; subjectId: string }[] };
    expect(
      json.findings.filter((f) => f.rule === 'review-not-evidenced').map((f) => f.subjectId),
    ).toHaveLength(10);
  });

  it('records a first sign-off, then a second with the diff of what changed', async () => {
    const config = join(work, 'soc2-evidence.yaml');
    const first = await cli([
      'sign-off',
      '--by',
      'Ada Lovelace',
      '--role',
      'Founder',
      '--note',
      'Q4 full re-score',
      '--config',
      config,
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Risk register signed off by Ada Lovelace \(Founder\) at /);
    expect(first.stdout).toContain('First sign-off');
    expect(first.stdout).toMatch(
      /Evidence: evidence\/risk-register-review\/quarterly\/2026-Q4\/.+\/manifest\.json/,
    );

    // The re-score: R2 less likely now, R9's status page shipped, R1 reviewed today.
    const today = localDate(new Date(), 'UTC');
    const text = (await readFile(join(work, 'risk-register.yaml'), 'utf8'))
      .replace(/(title: Webhook signature forgery[\s\S]*?likelihood: )4/, '$13')
      .replace(/(title: Outage of upstream[\s\S]*?status: )partial/, '$1mitigated')
      .replace(/(title: Tenant data leakage[\s\S]*?lastReviewed: )2026-02-18/, `$1${today}`);
    await writeFile(join(work, 'risk-register.yaml'), text);
    const second = await cli([
      'sign-off',
      '--by',
      'Grace Hopper',
      '--role',
      'Tech advisor',
      '--config',
      config,
    ]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('2 change(s) since the sign-off of');
    expect(second.stdout).toContain('  R2 likelihood: 4 -> 3');
    expect(second.stdout).toContain('  R9 status: "partial" -> "mitigated"');

    const history = await makeSignOffHistory({
      clients: env.clients,
      bucket: env.resources.evidenceBucket,
      table: env.resources.resultsTable,
    }).list();
    expect(history.map((h) => h.by)).toEqual(['Grace Hopper', 'Ada Lovelace']);
    expect(history[0]?.previous?.registerSha256).toBe(history[1]?.registerSha256);
    expect(history[1]?.note).toBe('Q4 full re-score');
  });

  it('then evidences R1 (reviewed today and signed off), and still flags the others', async () => {
    const { stdout } = await cli([
      '--config',
      join(work, 'soc2-evidence.yaml'),
      '--with-sign-offs',
      '--json',
    ]);
    const json = JSON.parse(stdout) as { findings: { rule: string; subjectId: string }[] };
    const flagged = json.findings.filter((f) => f.rule === 'review-not-evidenced').map((f) => f.subjectId);
    expect(flagged).not.toContain('R1');
    expect(flagged).toHaveLength(9);
  });

  it('exports with the sign-offs, verifies, and fails verification once a sign-off is edited', async () => {
    // A sign-off recorded through the same recorder with a known time, beside the CLI's two.
    const config = await loadConfig(join(work, 'soc2-evidence.yaml'));
    if (!config.riskRegister) throw new Error('the example config has a register');
    const deps = makeSignOffDeps({
      clients: env.clients,
      bucket: env.resources.evidenceBucket,
      table: env.resources.resultsTable,
      timeZone: 'UTC',
      signer: makeLocalSigner({ privateKeyPem: keyPem }),
    });
    const third = await recordSignOff(
      {
        register: config.riskRegister,
        timeZone: 'UTC',
        by: 'Ada Lovelace',
        role: 'Founder',
        at: new Date(),
        owner: 'founder',
      },
      deps,
    );
    expect(third.record.changes).toEqual([]);

    const zip = join(work, 'export.zip');
    await exportArchive({
      reader: makeS3EvidenceReader(env.clients.s3, env.resources.evidenceBucket),
      bucket: env.resources.evidenceBucket,
      range: { from: '2026-01-01', to: '2026-12-31' },
      output: createWriteStream(zip),
    });
    const entries = await zipEntries(zip);
    const signOffFiles = [...entries.keys()].filter(
      (name) => name.includes(`/${SIGN_OFF_CHAIN_ID}/`) && name.endsWith('result.json'),
    );
    expect(signOffFiles).toHaveLength(3);
    const report = await verifyPath(zip);
    // Checkpoints list the configured controls' chains; the sign-off chain is not one of them yet,
    // so an export of sign-offs alone has nothing signed saying which chains must exist.
    expect(report.problems.map((p) => p.code)).toEqual(['checkpoint-missing']);
    expect(report.controls.find((c) => c.controlId === SIGN_OFF_CHAIN_ID)).toMatchObject({ manifests: 3 });

    // Rewrite who signed the first sign-off.
    const target =
      signOffFiles.find((name) => entries.get(name)?.toString('utf8').includes('"Q4 full re-score"')) ?? '';
    const edited = new Map(entries);
    edited.set(
      target,
      Buffer.from((entries.get(target)?.toString('utf8') ?? '').replace('Ada Lovelace', 'Someone Else')),
    );
    const tampered = join(work, 'tampered.zip');
    const out = new ZipFile();
    for (const [name, bytes] of edited) out.addBuffer(bytes, name);
    out.end();
    await pipeline(out.outputStream, createWriteStream(tampered));
    const broken = await verifyPath(tampered);
    expect(broken.problems.map((p) => p.code).sort()).toEqual(['artifact-altered', 'checkpoint-missing']);
    expect(broken.problems.some((p) => p.controlId === SIGN_OFF_CHAIN_ID)).toBe(true);
  });

  it('exits 2 without a reviewer, a role or the evidence location', async () => {
    expect((await cli(['sign-off', '--role', 'Founder'])).code).toBe(2);
    expect((await cli(['sign-off', '--by', 'Ada'])).code).toBe(2);
    const out: string[] = [];
    const code = await risksCommand(['sign-off', '--by', 'Ada', '--role', 'F'], {
      stdout: () => {},
      stderr: (s) => out.push(s),
      env: {},
    });
    expect(code).toBe(2);
    expect(out.join('')).toContain('set SOC2_EVIDENCE_BUCKET and SOC2_RESULTS_TABLE');
    // No key that stays the same from one sign-off to the next: refused, not signed with a throwaway one.
    const { SOC2_LOCAL_SIGNING_KEY_FILE: _key, ...keyless } = cliEnv;
    const refused: string[] = [];
    expect(
      await risksCommand(
        ['sign-off', '--by', 'Ada', '--role', 'F', '--config', join(work, 'soc2-evidence.yaml')],
        {
          stdout: () => {},
          stderr: (s) => refused.push(s),
          env: keyless,
        },
      ),
    ).toBe(2);
    expect(refused.join('')).toContain('sign-offs must all be signed with the same key');
  });

  it('is caught by verify when a sign-off is signed with another key', async () => {
    const config = await loadConfig(join(work, 'soc2-evidence.yaml'));
    if (!config.riskRegister) throw new Error('the example config has a register');
    const rogue = makeSignOffDeps({
      clients: env.clients,
      bucket: env.resources.evidenceBucket,
      table: env.resources.resultsTable,
      timeZone: 'UTC',
      signer: makeLocalSigner(),
    });
    await recordSignOff(
      {
        register: config.riskRegister,
        timeZone: 'UTC',
        by: 'Mallory',
        role: 'Founder',
        at: new Date(),
        owner: 'founder',
      },
      rogue,
    );
    const zip = join(work, 'rogue.zip');
    await exportArchive({
      reader: makeS3EvidenceReader(env.clients.s3, env.resources.evidenceBucket),
      bucket: env.resources.evidenceBucket,
      range: { from: '2026-01-01', to: '2026-12-31' },
      output: createWriteStream(zip),
    });
    const report = await verifyPath(zip);
    expect(report.problems.map((p) => p.message).join('\n')).toMatch(/re-signed with another key/);
  });
});
