import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lib/config/load-config.ts';
import { assetState, evaluateRegister } from '../../lib/risks/evaluate-register.ts';
import type { RiskRegisterInput } from '../../lib/risks/register-schema.ts';
import { assetInput, register, riskInput, walkThrough } from './fixtures.ts';

const asOf = new Date('2026-11-23T12:00:00Z');
const evaluate = (input: RiskRegisterInput) => evaluateRegister(register(input), { asOf, timeZone: 'UTC' });
const rulesOf = (input: RiskRegisterInput, assetId = 'customer-data') =>
  evaluate(input)
    .findings.filter((f) => f.subjectKind === 'asset' && f.subjectId === assetId)
    .map((f) => f.rule);

function issuesOf(riskRegister: unknown): string[] {
  try {
    parseConfig(
      {
        owners: [{ id: 'founder', name: 'Founder', email: 'founder@example.com' }],
        targets: [{ name: 'app', connection: { env: 'DATABASE_URL' } }],
        controls: [
          {
            id: 'audit-log',
            title: 'Audit log',
            criteria: ['CC7.2'],
            cadence: 'monthly',
            owner: 'founder',
            test: {
              type: 'log-completeness',
              target: 'app',
              schema: 'public',
              table: 'audit_log',
              maxSilence: 'PT1H',
            },
          },
        ],
        riskRegister,
      },
      'test',
    );
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
}

describe('asset inventory schema', () => {
  it('accepts an inventory whose risks point at its assets', () => {
    expect(issuesOf({ assets: [assetInput()], risks: walkThrough('customer-data') })).toEqual([]);
  });

  it.each([
    {
      name: 'a risk pointing at an undeclared asset',
      input: {
        assets: [assetInput()],
        risks: [riskInput({ asset: 'Customer data', classification: undefined })],
      },
      issue: 'riskRegister.risks[0].asset: unknown asset "Customer data"; expected one of customer-data',
    },
    {
      name: 'a duplicated asset id',
      input: { assets: [assetInput(), assetInput({ name: 'Again' })] },
      issue: 'riskRegister.assets[1].id: duplicate asset id "customer-data" (first used at assets[0])',
    },
    {
      name: 'a placeholder instead of a written reason',
      input: { assets: [assetInput({ notApplicable: [{ category: 'repudiation', reason: 'n/a' }] })] },
      issue: 'riskRegister.assets[0].notApplicable[0].reason: write why the category does not apply',
    },
    {
      name: 'a category both not applicable and assessed',
      input: {
        assets: [
          assetInput({
            notApplicable: [{ category: 'spoofing', reason: 'Nobody authenticates to this data directly.' }],
          }),
        ],
        risks: [
          riskInput({ id: 'R7', asset: 'customer-data', threat: 'spoofing', classification: undefined }),
        ],
      },
      issue:
        'riskRegister.assets[0].notApplicable[0].category: "spoofing" is marked not applicable to customer-data, but R7 assesses it',
    },
    {
      name: 'the same category not applicable twice',
      input: {
        assets: [
          assetInput({
            notApplicable: [
              { category: 'repudiation', reason: 'Read-only data, nobody acts on it.' },
              { category: 'repudiation', reason: 'Read-only data, nobody acts on it.' },
            ],
          }),
        ],
      },
      issue:
        'riskRegister.assets[0].notApplicable[1].category: "repudiation" is listed as not applicable twice',
    },
    {
      name: 'a risk classification disagreeing with its asset',
      input: {
        assets: [assetInput()],
        risks: [riskInput({ asset: 'customer-data', classification: 'public' })],
      },
      issue:
        'riskRegister.risks[0].classification: "public" disagrees with asset customer-data, classified "confidential"',
    },
    {
      name: 'an unknown asset owner',
      input: { assets: [assetInput({ owner: 'ghost' })] },
      issue: 'riskRegister.assets[0].owner: unknown owner "ghost"; expected one of founder',
    },
    {
      name: 'encryption claimed without saying how',
      input: {
        assets: [
          assetInput({ encryption: { atRest: { encrypted: true }, inTransit: { encrypted: 'unknown' } } }),
        ],
      },
      issue: 'riskRegister.assets[0].encryption.atRest.detail: name the encryption',
    },
    {
      name: '"none" written where a boolean belongs',
      input: {
        assets: [
          assetInput({
            encryption: {
              atRest: { encrypted: 'none' as unknown as boolean },
              inTransit: { encrypted: true, detail: 'TLS' },
            },
          }),
        ],
      },
      issue: 'riskRegister.assets[0].encryption.atRest.encrypted: expected true, false or "unknown"',
    },
    {
      name: 'an asset without a data store',
      input: { assets: [assetInput({ dataStores: [] })] },
      issue: 'riskRegister.assets[0].dataStores: expected at least one data store',
    },
    {
      name: 'a classification-less risk in a register without an inventory',
      input: { risks: [riskInput({ classification: undefined })] },
      issue: 'riskRegister.risks[0].classification: missing; without an asset inventory',
    },
  ])('rejects $name, naming the field', ({ input, issue }) => {
    const issues = issuesOf(input);
    expect(
      issues.some((text) => text.startsWith(issue)),
      issues.join('\n'),
    ).toBe(true);
  });
});

describe('STRIDE walk-through per asset', () => {
  it('is complete with one risk per category: no finding', () => {
    expect(rulesOf({ assets: [assetInput()], risks: walkThrough('customer-data') })).toEqual([]);
  });

  it('counts a written "not applicable" as walked through', () => {
    const risks = walkThrough('customer-data').filter((r) => r.threat !== 'repudiation');
    const asset = assetInput({
      notApplicable: [{ category: 'repudiation', reason: 'Nobody performs actions on this data set.' }],
    });
    const state = evaluate({ assets: [asset], risks }).assets[0];
    expect(state?.missing).toEqual([]);
    expect(state?.coverage.find((c) => c.category === 'repudiation')).toEqual({
      category: 'repudiation',
      kind: 'not-applicable',
      reason: 'Nobody performs actions on this data set.',
    });
  });

  it('names every category with neither a risk nor a reason', () => {
    const risks = walkThrough('customer-data').filter(
      (r) => r.threat !== 'repudiation' && r.threat !== 'elevation-of-privilege',
    );
    const finding = evaluate({ assets: [assetInput()], risks }).findings.find((f) => f.rule === 'stride-gap');
    expect(finding).toMatchObject({
      key: 'customer-data/stride-gap',
      category: 'violation',
      severity: 'high',
      owner: 'founder',
      subjectKind: 'asset',
      strideCategories: ['repudiation', 'elevation-of-privilege'],
    });
    expect(finding?.message).toContain('4 of 6 STRIDE categories');
  });

  it('does not credit an asset with risks against another asset', () => {
    const state = evaluate({
      assets: [assetInput(), assetInput({ id: 'other', name: 'Other' })],
      risks: walkThrough('other'),
    }).assets[0];
    expect(state?.missing).toHaveLength(6);
  });

  it('walks an asset with no risk at all through nothing: six gaps', () => {
    expect(evaluate({ assets: [assetInput({ classification: 'public' })] }).assets[0]?.missing).toEqual([
      'spoofing',
      'tampering',
      'repudiation',
      'information-disclosure',
      'denial-of-service',
      'elevation-of-privilege',
    ]);
  });
});

describe('sensitive data without encryption at rest', () => {
  const plain = {
    atRest: { encrypted: false, detail: 'Plain-stored' },
    inTransit: { encrypted: true, detail: 'TLS' },
  };
  const unknown = {
    atRest: { encrypted: 'unknown' as const },
    inTransit: { encrypted: true, detail: 'TLS' },
  };
  const complete = walkThrough('customer-data');
  const withDisclosure = (change: Partial<Parameters<typeof riskInput>[0]>) =>
    complete.map((r) => (r.threat === 'information-disclosure' ? { ...r, ...change } : r));

  it.each([
    { name: 'confidential, plain-stored', asset: assetInput({ encryption: plain }), risks: complete },
    {
      name: 'restricted, encryption unknown',
      asset: assetInput({ classification: 'restricted', encryption: unknown }),
      risks: complete,
    },
    {
      name: 'confidential, plain-stored, disclosure risk only mitigated',
      asset: assetInput({ encryption: plain }),
      risks: withDisclosure({ status: 'mitigated' }),
    },
    {
      name: 'confidential, plain-stored, disclosure risk accepted without a reason',
      asset: assetInput({ encryption: plain }),
      risks: withDisclosure({ status: 'accepted', mitigation: '   ' }),
    },
    {
      name: 'confidential, plain-stored, only a tampering risk accepted',
      asset: assetInput({ encryption: plain }),
      risks: complete.map((r) =>
        r.threat === 'tampering'
          ? { ...r, status: 'accepted' as const, mitigation: 'Accepted: HMAC only.' }
          : r,
      ),
    },
  ])('is a finding: $name', ({ asset, risks }) => {
    expect(rulesOf({ assets: [asset], risks })).toEqual(['unencrypted-at-rest']);
  });

  it('is not a finding for internal or public data stored in the clear', () => {
    expect(
      rulesOf({ assets: [assetInput({ classification: 'internal', encryption: plain })], risks: complete }),
    ).toEqual([]);
  });

  it('is excused by an accepted information-disclosure risk against it with the reason written', () => {
    const risks = withDisclosure({
      status: 'accepted',
      mitigation: 'Secrets are only used to verify HMACs; a leak allows forgery, which R2 detects.',
    });
    expect(rulesOf({ assets: [assetInput({ encryption: plain })], risks })).toEqual([]);
  });

  it('is not excused by an accepted disclosure risk against another asset', () => {
    const risks = [
      ...complete,
      riskInput({
        id: 'X1',
        asset: 'other',
        threat: 'information-disclosure',
        status: 'accepted',
        mitigation: 'Accepted for the other asset only.',
        classification: undefined,
      }),
    ];
    const assets = [
      assetInput({ encryption: plain }),
      assetInput({ id: 'other', name: 'Other', encryption: plain }),
    ];
    expect(rulesOf({ assets, risks })).toEqual(['unencrypted-at-rest']);
  });

  it('says whether the data is plain-stored or simply unrecorded', () => {
    const [plainFinding] = assetState(
      register({ assets: [assetInput({ encryption: plain })] }).assets[0] as never,
      [],
    ).findings.filter((f) => f.rule === 'unencrypted-at-rest');
    expect(plainFinding?.message).toContain('stored without encryption at rest (Plain-stored)');
    const [unknownFinding] = assetState(
      register({ assets: [assetInput({ encryption: unknown })] }).assets[0] as never,
      [],
    ).findings.filter((f) => f.rule === 'unencrypted-at-rest');
    expect(unknownFinding?.message).toContain('whether it is encrypted at rest is not recorded');
  });
});
