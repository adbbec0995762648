import { describe, expect, it } from 'vitest';
import { checkRegister, type RegisterCheckInput } from '../../lib/risks/register-check.ts';
import type { RiskRegisterInput } from '../../lib/risks/register-schema.ts';
import { assetInput, riskInput, walkThrough } from './fixtures.ts';

const known = { ownerIds: new Set(['founder', 'security']), controlIds: new Set(['audit-log']) };
const check = (register: RiskRegisterInput | unknown, extra: Partial<RegisterCheckInput> = {}) =>
  checkRegister({ register, ...known, ...extra });
const kinds = (register: unknown, extra: Partial<RegisterCheckInput> = {}) =>
  check(register, extra).violations.map((v) => `${v.kind} ${v.path}`);

const complete: RiskRegisterInput = { assets: [assetInput()], risks: walkThrough('customer-data') };

describe('risks check (the pull-request gate), pure', () => {
  it('passes a register whose every asset is walked through, mitigated and referenced correctly', () => {
    expect(check(complete).violations).toEqual([]);
  });

  it('names each asset with a missing walk-through, one line per asset', () => {
    const risks = walkThrough('customer-data').filter((r) => r.threat !== 'repudiation');
    const [violation, ...rest] = check({ assets: [assetInput()], risks }).violations;
    expect(rest).toEqual([]);
    expect(violation).toEqual({
      kind: 'missing-walk-through',
      path: 'assets[0]',
      message:
        'asset customer-data: STRIDE walk-through missing for repudiation (no risk against it and no notApplicable reason)',
    });
  });

  it('refuses an inherent score at the threshold without a mitigation, even with a low residual', () => {
    const risks = walkThrough('customer-data').map((r, i) =>
      i === 0
        ? { ...r, likelihood: 3, impact: 4, residual: { likelihood: 1, impact: 1 }, mitigation: ' ' }
        : r,
    );
    expect(kinds({ assets: [assetInput()], risks })).toEqual(['missing-mitigation risks[0].mitigation']);
    // 2 x 5 = 10 is below the threshold of 12.
    const below = walkThrough('customer-data').map((r, i) =>
      i === 0 ? { ...r, likelihood: 2, impact: 5, mitigation: '' } : r,
    );
    expect(kinds({ assets: [assetInput()], risks: below })).toEqual([]);
  });

  it('refuses unknown owners and linked controls, naming the field', () => {
    const risks = walkThrough('customer-data').map((r, i) =>
      i === 0 ? { ...r, owner: 'ghost', linkedControls: ['audit-log', 'nope'] } : r,
    );
    expect(check({ assets: [assetInput({ owner: 'nobody' })], risks }).violations).toEqual([
      {
        kind: 'unknown-owner',
        path: 'risks[0].owner',
        message: 'unknown owner "ghost"; expected one of founder, security',
      },
      {
        kind: 'unknown-control',
        path: 'risks[0].linkedControls[1]',
        message: 'unknown control "nope"; expected one of audit-log',
      },
      {
        kind: 'unknown-owner',
        path: 'assets[0].owner',
        message: 'unknown owner "nobody"; expected one of founder, security',
      },
    ]);
  });

  it('refuses sensitive data stored in the clear and an acceptance above the threshold', () => {
    const asset = assetInput({
      encryption: { atRest: { encrypted: false }, inTransit: { encrypted: true, detail: 'TLS' } },
    });
    const risks = walkThrough('customer-data').map((r) =>
      r.threat === 'information-disclosure'
        ? {
            ...r,
            status: 'accepted' as const,
            likelihood: 4,
            impact: 4,
            mitigation: 'Accepted: HMAC use only.',
          }
        : r,
    );
    // The acceptance excuses the plain storage, but accepts a residual of 16: still refused.
    expect(kinds({ assets: [asset], risks })).toEqual(['acceptance-above-threshold risks[3].status']);
    expect(kinds({ assets: [asset], risks: walkThrough('customer-data') })).toEqual([
      'unencrypted-at-rest assets[0].encryption.atRest',
    ]);
  });

  it('refuses risks without an asset inventory', () => {
    expect(check({ risks: [riskInput()] }).violations).toEqual([
      {
        kind: 'no-asset-inventory',
        path: 'assets',
        message:
          'the register has risks but no asset inventory, so no STRIDE walk-through can be checked: list the assets and point each risk at one by id',
      },
    ]);
  });

  it('refuses an acceptance exactly at the threshold, and names the score and the threshold', () => {
    // Residual 3 x 4 = 12 is the threshold itself: "at or above" refuses it.
    const risks = walkThrough('customer-data').map((r, i) =>
      i === 0
        ? {
            ...r,
            status: 'accepted' as const,
            likelihood: 3,
            impact: 4,
            mitigation: 'Accepted by the board.',
          }
        : r,
    );
    expect(check({ assets: [assetInput()], risks }).violations).toEqual([
      {
        kind: 'acceptance-above-threshold',
        path: 'risks[0].status',
        message: `risk ${risks[0]?.id} is accepted at a residual score of 12, at or above the threshold 12`,
      },
    ]);
    // Just below (residual 11 is impossible as a product; 2 x 5 = 10): the acceptance stands.
    const below = risks.map((r, i) => (i === 0 ? { ...r, likelihood: 2, impact: 5 } : r));
    expect(kinds({ assets: [assetInput()], risks: below })).toEqual([]);
  });

  it('does not treat a mitigated high risk as an acceptance', () => {
    // A mitigated (not accepted) risk scoring 20 with a written mitigation breaks no rule of the gate.
    const risks = walkThrough('customer-data').map((r, i) =>
      i === 0 ? { ...r, status: 'mitigated' as const, likelihood: 4, impact: 5, mitigation: 'WAF.' } : r,
    );
    expect(kinds({ assets: [assetInput()], risks })).toEqual([]);
  });

  it('words the missing-mitigation and unencrypted findings in full', () => {
    const risks = walkThrough('customer-data').map((r, i) =>
      i === 0 ? { ...r, likelihood: 3, impact: 4, mitigation: '' } : r,
    );
    expect(check({ assets: [assetInput()], risks }).violations).toEqual([
      {
        kind: 'missing-mitigation',
        path: 'risks[0].mitigation',
        message: `risk ${risks[0]?.id}: inherent score 12 (3 x 4) is at or above the threshold 12, but no mitigation is written`,
      },
    ]);
    const unknown = assetInput({
      encryption: { atRest: { encrypted: 'unknown' }, inTransit: { encrypted: true, detail: 'TLS' } },
    });
    const plain = assetInput({
      encryption: { atRest: { encrypted: false }, inTransit: { encrypted: true, detail: 'TLS' } },
    });
    const message = (asset: typeof unknown) =>
      check({ assets: [asset], risks: walkThrough('customer-data') }).violations.map((v) => v.message);
    expect(message(unknown)).toEqual([
      'asset customer-data is confidential but not encrypted at rest (unknown), and no information-disclosure risk against it is accepted with a reason',
    ]);
    expect(message(plain)).toEqual([
      'asset customer-data is confidential but not encrypted at rest, and no information-disclosure risk against it is accepted with a reason',
    ]);
  });

  it('reports a parse failure with the path apart from the message, and adds no assets', () => {
    const result = check({ ...complete, settings: { scoreThreshold: 'high' } }, { base: null });
    expect(result).toEqual({
      violations: [
        {
          kind: 'invalid-register',
          path: 'settings.scoreThreshold',
          message: 'expected number, received string',
        },
      ],
      addedAssets: [],
    });
  });

  it.each([
    { name: 'an empty file', register: null, expected: [] },
    {
      name: 'an out-of-range score',
      register: { ...complete, risks: [{ ...walkThrough('customer-data')[0], likelihood: 6 }] },
      expected: ['invalid-register risks[0].likelihood'],
    },
    {
      name: 'a risk against an undeclared asset',
      register: { ...complete, risks: [riskInput({ asset: 'ghost-asset', classification: undefined })] },
      expected: ['invalid-register risks[0].asset'],
    },
    { name: 'a list where a map belongs', register: ['risks'], expected: ['invalid-register (root)'] },
  ])('reports a register that does not parse as violations: $name', ({ register, expected }) => {
    expect(kinds(register)).toEqual(expected);
  });

  describe('against a base', () => {
    const withNew = {
      assets: [assetInput(), assetInput({ id: 'okta-tokens', name: 'Okta tokens' })],
      risks: walkThrough('customer-data'),
    };

    it('names an asset the pull request adds without a walk-through', () => {
      const result = check(withNew, { base: complete, baseLabel: 'origin/main' });
      expect(result.addedAssets).toEqual(['okta-tokens']);
      expect(result.violations.map((v) => v.kind)).toEqual(['asset-added-without-walk-through']);
      expect(result.violations[0]?.message).toMatch(
        /^asset okta-tokens is new \(not on origin\/main\) and has no complete STRIDE walk-through: missing spoofing, .*elevation-of-privilege; add a risk/,
      );
      expect(result.violations[0]?.path).toBe('assets[1]');
      // Without a label, the message still says what it compared against.
      expect(check(withNew, { base: complete }).violations[0]?.message).toMatch(
        /^asset okta-tokens is new \(not on the base\)/,
      );
    });

    it('accepts the added asset once it is walked through', () => {
      const done = { ...withNew, risks: [...withNew.risks, ...walkThrough('okta-tokens', 'K')] };
      const result = check(done, { base: complete, baseLabel: 'origin/main' });
      expect(result.violations).toEqual([]);
      expect(result.addedAssets).toEqual(['okta-tokens']);
    });

    it('treats every asset as added when the register is new on the branch', () => {
      expect(check(withNew, { base: null }).addedAssets).toEqual(['customer-data', 'okta-tokens']);
    });

    it('reads an old base leniently: a base without an inventory, or one that no longer validates', () => {
      expect(check(withNew, { base: { risks: [{ asset: 'Free text' }] } }).addedAssets).toEqual([
        'customer-data',
        'okta-tokens',
      ]);
      expect(check(withNew, { base: { assets: [{ id: 'customer-data', bogus: 1 }] } }).addedAssets).toEqual([
        'okta-tokens',
      ]);
      // Holes and non-string ids in an old inventory are skipped, not fatal.
      expect(
        check(withNew, { base: { assets: [null, { id: 7 }, { id: 'customer-data' }] } }).addedAssets,
      ).toEqual(['okta-tokens']);
    });

    it('still refuses gaps that were already on the base (the gate is not a ratchet)', () => {
      const gap = { assets: [assetInput()], risks: walkThrough('customer-data').slice(1) };
      expect(kinds(gap, { base: gap })).toEqual(['missing-walk-through assets[0]']);
    });
  });
});
