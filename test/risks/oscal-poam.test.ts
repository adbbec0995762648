import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load-config.ts';
import type { Config } from '../../lib/config/schema.ts';
import { evaluateRegister } from '../../lib/risks/evaluate-register.ts';
import { buildPoam, uuidV5 } from '../../lib/risks/oscal-poam.ts';
import { register, remediationInput, riskInput } from './fixtures.ts';

// ajv-formats is CommonJS; under ESM its function sits on `default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

let validate: ValidateFunction;
let config: Config;

beforeAll(async () => {
  const schema = JSON.parse(
    readFileSync(new URL('../fixtures/oscal/oscal_poam_schema.json', import.meta.url), 'utf8'),
  );
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  validate = ajv.compile(schema);
  config = await loadConfig('soc2-evidence.yaml');
});

const owners = () => config.owners.map((o) => ({ id: o.id, name: o.name, email: o.email }));
type Poam = { 'plan-of-action-and-milestones': Record<string, unknown> };
const items = (doc: Poam) => doc['plan-of-action-and-milestones']['poam-items'] as Record<string, unknown>[];
const risks = (doc: Poam) => (doc['plan-of-action-and-milestones'].risks ?? []) as Record<string, unknown>[];

describe('OSCAL POA&M from the risk register', () => {
  it('is valid against the official OSCAL 1.0.4 POA&M schema for the example register', () => {
    const input = config.riskRegister;
    if (!input) throw new Error('example config has no register');
    const asOf = new Date('2026-11-23T09:00:00Z');
    const evaluation = evaluateRegister(input, { asOf, timeZone: config.timeZone });
    const doc = buildPoam(input, evaluation.findings, {
      generatedAt: asOf,
      timeZone: config.timeZone,
      owners: owners(),
    });
    const valid = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // R9 (partial), the three open gaps and every asset with a STRIDE gap or stored in the clear;
    // mitigated risks with only an overdue review stay off.
    expect(items(doc).map((item) => String(item.title).split(':')[0])).toEqual([
      'R9',
      'G1',
      'G2',
      'G3',
      'cloud-credentials',
      'customer-revenue-data',
      'llm-api-keys',
      'okta-ssws-tokens',
      'webhook-signing-secrets',
      'trace-cost-events',
      'algorithm-correctness-results',
    ]);
    const webhook = items(doc).find((item) => String(item.title).startsWith('webhook-signing-secrets'));
    expect(webhook?.description).toContain('stored without encryption at rest (Plain-stored, HMAC-only use)');
    const r9 = risks(doc).find((risk) => String(risk.title).startsWith('R9'));
    expect(r9).toMatchObject({ status: 'remediating', deadline: '2026-05-31T23:59:59Z' });
    expect(items(doc)[0]?.remarks).toContain('planned for 2026-05-31 and is 176 days overdue');
  });

  it('puts a mitigated risk on the plan when its linked control fails, and an accepted one as a deviation', () => {
    const input = register({
      risks: [
        riskInput({ id: 'R8', linkedControls: ['audit-log-completeness'] }),
        riskInput({ id: 'R4', status: 'accepted', mitigation: 'Low impact; accepted by the founder.' }),
        riskInput({ id: 'R1' }),
      ],
      remediations: [remediationInput({ id: 'G1', status: 'done' })],
    });
    const asOf = new Date('2026-11-23T09:00:00Z');
    const evaluation = evaluateRegister(input, {
      asOf,
      timeZone: 'Europe/Berlin',
      latestVerdicts: [
        { controlId: 'audit-log-completeness', cadence: 'monthly', periodKey: '2026-10', verdict: 'fail' },
      ],
    });
    const doc = buildPoam(input, evaluation.findings, {
      generatedAt: asOf,
      timeZone: 'Europe/Berlin',
      owners: owners(),
    });
    expect(validate(doc)).toBe(true);
    expect(risks(doc).map((r) => [String(r.title).split(':')[0], r.status])).toEqual([
      ['R8', 'open'],
      ['R4', 'deviation-approved'],
    ]);
    expect(doc['plan-of-action-and-milestones'].observations).toHaveLength(1);
  });

  it('emits a single "nothing open" item when the register is clear (OSCAL needs at least one)', () => {
    const input = register({ risks: [riskInput()], remediations: [remediationInput({ status: 'done' })] });
    const asOf = new Date('2026-11-23T09:00:00Z');
    const doc = buildPoam(input, [], { generatedAt: asOf, timeZone: 'UTC', owners: owners() });
    expect(validate(doc)).toBe(true);
    expect(items(doc)).toHaveLength(1);
    expect(items(doc)[0]?.title).toBe('No open risks or remediation items');
  });

  it('keeps UUIDs stable across exports and distinct per system', () => {
    const input = register({ risks: [riskInput({ status: 'open' })] });
    const build = (systemName: string, day: string) =>
      buildPoam(input, [], { generatedAt: new Date(day), timeZone: 'UTC', owners: owners(), systemName });
    expect(items(build('prod', '2026-11-23T00:00:00Z'))[0]?.uuid).toBe(
      items(build('prod', '2026-12-01T00:00:00Z'))[0]?.uuid,
    );
    expect(items(build('prod', '2026-11-23T00:00:00Z'))[0]?.uuid).not.toBe(
      items(build('staging', '2026-11-23T00:00:00Z'))[0]?.uuid,
    );
  });

  it('is checked by a validator that rejects a malformed document (the schema is not vacuous)', () => {
    const input = register({ risks: [riskInput({ status: 'open' })] });
    const doc = buildPoam(input, [], {
      generatedAt: new Date('2026-11-23T00:00:00Z'),
      timeZone: 'UTC',
      owners: owners(),
    });
    const broken = {
      'plan-of-action-and-milestones': { ...doc['plan-of-action-and-milestones'], uuid: 'not-a-uuid' },
    };
    expect(validate(broken)).toBe(false);
  });

  it('generates RFC 4122 version-5 UUIDs (the DNS example from RFC 9562)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
});
