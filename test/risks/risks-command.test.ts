import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { risksCommand } from '../../lib/cli/risks-command.ts';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await risksCommand(argv, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: {} });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

interface JsonFinding {
  key: string;
  rule: string;
  subjectId: string;
  message: string;
}
interface JsonOutput {
  date: string;
  assets: { id: string; classification: string; missing: string[]; findings: JsonFinding[] }[];
  risks: { id: string; score: number; status: string; findings: JsonFinding[] }[];
  remediations: { id: string; findings: JsonFinding[] }[];
  findings: JsonFinding[];
}

describe('soc2-evidence risks --as-of 2026-11-23 on the example register (acceptance)', () => {
  let text: string;
  let json: JsonOutput;
  beforeAll(async () => {
    const plain = await run(['--as-of', '2026-11-23']);
    expect(plain.code).toBe(0);
    text = plain.stdout;
    const asJson = await run(['--as-of', '2026-11-23', '--json']);
    expect(asJson.code).toBe(0);
    json = JSON.parse(asJson.stdout) as JsonOutput;
  });

  it('lists R9 as overdue, planned for May 2026', () => {
    const r9 = json.risks.find((r) => r.id === 'R9');
    expect(r9?.status).toBe('partial');
    expect(r9?.findings.map((f) => f.key)).toContain('R9/mitigation-overdue/2026-05-31');
    expect(text).toContain(
      'R9 "Outage of upstream (MongoDB, OpenAI, Stripe)" is still only partially mitigated',
    );
  });

  it('flags every risk whose quarterly review (due 2026-05-18) is past', () => {
    const reviewed = json.findings.filter((f) => f.rule === 'review-overdue').map((f) => f.subjectId);
    expect(reviewed.sort()).toEqual(['R1', 'R10', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8', 'R9']);
  });

  it('lists the three reference remediation gaps as overdue', () => {
    expect(json.remediations.map((r) => [r.id, r.findings.map((f) => f.rule)])).toEqual([
      ['G2', ['remediation-overdue']],
      ['G1', ['remediation-overdue']],
      ['G3', ['remediation-overdue']],
    ]);
    expect(text).toMatch(/G1 +2025-11-01 +open +security +Manual Keycloak password rotation/);
  });

  it('flags R2 (score 16, mitigated) only for its overdue review, never for a missing mitigation', () => {
    const r2 = json.risks.find((r) => r.id === 'R2');
    expect(r2?.score).toBe(16);
    expect(r2?.findings.map((f) => f.rule)).toEqual(['review-overdue']);
    expect(json.findings.some((f) => f.rule === 'missing-mitigation')).toBe(false);
  });

  it('prints the register sorted by score with each status', () => {
    expect(json.risks.map((r) => r.id)).toEqual([
      'R2',
      'R1',
      'R5',
      'R7',
      'R3',
      'R8',
      'R4',
      'R9',
      'R6',
      'R10',
    ]);
    const rows = text.split('\n').filter((line) => /^R\d+ /.test(line));
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(json.risks.map((r) => r.id));
    expect(rows[0]).toMatch(
      /^R2 +16 +4 x 4 +- +- +mitigated +founder +2026-05-18 +Webhook signature forgery$/,
    );
    expect(text).toContain('22 findings: 8 violations, 14 overdue, 0 flagged.');
  });
});

describe('soc2-evidence risks --as-of 2026-11-23: the reference inventory walked through STRIDE', () => {
  let text: string;
  let json: JsonOutput;
  beforeAll(async () => {
    text = (await run(['--as-of', '2026-11-23'])).stdout;
    json = JSON.parse((await run(['--as-of', '2026-11-23', '--json'])).stdout) as JsonOutput;
  });

  it('lists the STRIDE gaps of each of the seven reference assets', () => {
    expect(Object.fromEntries(json.assets.map((a) => [a.id, a.missing]))).toEqual({
      'cloud-credentials': [
        'spoofing',
        'tampering',
        'repudiation',
        'denial-of-service',
        'elevation-of-privilege',
      ],
      'customer-revenue-data': ['repudiation', 'elevation-of-privilege'],
      'llm-api-keys': ['spoofing', 'tampering', 'repudiation', 'information-disclosure'],
      'okta-ssws-tokens': [
        'spoofing',
        'tampering',
        'repudiation',
        'information-disclosure',
        'denial-of-service',
        'elevation-of-privilege',
      ],
      'webhook-signing-secrets': [
        'tampering',
        'repudiation',
        'information-disclosure',
        'denial-of-service',
        'elevation-of-privilege',
      ],
      'trace-cost-events': [
        'spoofing',
        'tampering',
        'repudiation',
        'information-disclosure',
        'denial-of-service',
        'elevation-of-privilege',
      ],
      'algorithm-correctness-results': [
        'spoofing',
        'tampering',
        'repudiation',
        'information-disclosure',
        'denial-of-service',
        'elevation-of-privilege',
      ],
    });
    expect(text).toContain('7 assets, 8 of 42 categories assessed, 34 gaps');
    expect(text).toMatch(
      /^customer-revenue-data +confidential +MongoDB at rest +TLS 1\.3 in transit +R7 +R6,R10 +GAP +R1,R8 +R9 +GAP +founder$/m,
    );
  });

  it('names the plain-stored confidential asset, and only that one', () => {
    const unencrypted = json.findings.filter((f) => f.rule === 'unencrypted-at-rest');
    expect(unencrypted.map((f) => f.subjectId)).toEqual(['webhook-signing-secrets']);
    expect(text).toContain(
      'is\n              confidential, but it is stored without encryption at rest (Plain-stored, HMAC-only use)',
    );
  });
});

describe('soc2-evidence risks options', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'risks-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('narrows to one owner with --owner', async () => {
    const { code, stdout } = await run(['--as-of', '2026-11-23', '--owner', 'security', '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as JsonOutput;
    expect(json.risks).toEqual([]);
    expect(json.findings.map((f) => f.key)).toEqual(['G1/remediation-overdue/2025-11-01']);
  });

  it('reads --as-of as a date in the config time zone: due 2026-05-18 is not overdue on 2026-05-18', async () => {
    const { stdout } = await run(['--as-of', '2026-05-18', '--json']);
    const json = JSON.parse(stdout) as JsonOutput;
    expect(json.date).toBe('2026-05-18');
    expect(json.findings.filter((f) => f.rule === 'review-overdue')).toEqual([]);
    const next = JSON.parse((await run(['--as-of', '2026-05-19', '--json'])).stdout) as JsonOutput;
    expect(next.findings.filter((f) => f.rule === 'review-overdue')).toHaveLength(10);
  });

  it.each([
    { argv: ['--owner', 'nobody'], message: /--owner: unknown owner "nobody"/ },
    { argv: ['--as-of', '23/11/2026'], message: /--as-of: expected a date/ },
    { argv: ['--as-of', '2026-02-30'], message: /not a valid date/ },
    { argv: ['--bogus'], message: /Unknown option '--bogus'/ },
    { argv: ['--config', '/nonexistent/soc2.yaml'], message: /cannot read the file: ENOENT/ },
  ])('exits 2 on bad usage: $argv', async ({ argv, message }) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('exits 2 naming the field when the register file is invalid', async () => {
    await writeFile(
      join(dir, 'soc2-evidence.yaml'),
      [
        'owners: [{ id: founder, name: Founder, email: founder@example.com }]',
        'targets: [{ name: app, connection: { env: DATABASE_URL } }]',
        'controls:',
        '  - { id: c1, title: C, criteria: [CC4.1], cadence: monthly, owner: founder,',
        '      test: { type: log-completeness, target: app, schema: public, table: audit_log, maxSilence: PT1H } }',
        'riskRegister: register.yaml',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'register.yaml'),
      [
        'risks:',
        '  - { id: R1, title: T, asset: A, classification: internal, threat: spoofing, likelihood: 6, impact: 2,',
        '      status: open, owner: ghost, linkedControls: [c1, nope], lastReviewed: 2026-01-01 }',
      ].join('\n'),
    );
    const { code, stderr } = await run(['--config', join(dir, 'soc2-evidence.yaml')]);
    expect(code).toBe(2);
    expect(stderr).toContain('riskRegister.risks[0].likelihood: expected likelihood from 1 to 5');
    expect(stderr).not.toMatch(/controls\[0\]/);
  });

  it('prints help and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: soc2-evidence risks/);
  });
});
