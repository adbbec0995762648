import { describe, expect, it } from 'vitest';
import { renderRegister } from '../../lib/cli/risks-command.ts';
import { ConfigError, parseConfig } from '../../lib/config/load-config.ts';
import { evaluateRegister } from '../../lib/risks/evaluate-register.ts';
import { type RiskRegisterInput, residualScore } from '../../lib/risks/register-schema.ts';
import { register, riskInput } from './fixtures.ts';

const asOf = new Date('2026-11-23T12:00:00Z');
const evaluate = (input: RiskRegisterInput) => evaluateRegister(register(input), { asOf, timeZone: 'UTC' });
const rules = (input: RiskRegisterInput) => evaluate(input).findings.map((f) => f.rule);

const config = (riskRegister: RiskRegisterInput) =>
  parseConfig({
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
  });

describe('inherent and residual scores', () => {
  it('takes the inherent score as residual when none is stated', () => {
    const [state] = evaluate({ risks: [riskInput({ likelihood: 3, impact: 5 })] }).risks;
    expect(state).toMatchObject({ score: 15, residualScore: 15, residualStated: false });
    expect(residualScore({ likelihood: 3, impact: 5, residual: { likelihood: 1, impact: 5 } })).toBe(5);
  });

  it('applies the threshold to the inherent score: a low residual does not excuse a missing mitigation', () => {
    expect(
      rules({
        risks: [
          riskInput({ likelihood: 4, impact: 4, residual: { likelihood: 1, impact: 2 }, mitigation: '' }),
        ],
      }),
    ).toEqual(['missing-mitigation']);
    expect(rules({ risks: [riskInput({ likelihood: 3, impact: 3, mitigation: '' })] })).toEqual([]);
  });

  it.each([
    { residual: { likelihood: 3, impact: 4 }, expected: ['acceptance-above-threshold'] },
    { residual: { likelihood: 2, impact: 5 }, expected: [] },
    { residual: undefined, expected: ['acceptance-above-threshold'] },
  ])(
    'applies acceptance to the residual score (inherent 4 x 4, residual $residual)',
    ({ residual, expected }) => {
      const risk = riskInput({
        likelihood: 4,
        impact: 4,
        status: 'accepted',
        mitigation: 'Accepted by the founder: HMAC forgery needs the secret.',
        ...(residual ? { residual } : {}),
      });
      expect(rules({ risks: [risk] })).toEqual(expected);
    },
  );

  it('says when an accepted risk has no residual, so its inherent score is what is accepted', () => {
    const risk = riskInput({
      likelihood: 3,
      impact: 4,
      status: 'accepted',
      mitigation: 'Accepted: low value data.',
    });
    expect(evaluate({ risks: [risk] }).findings[0]?.message).toContain(
      'accepted at a residual score of 12 (no residual stated, so the inherent score), at or above the threshold of 12',
    );
  });

  it('does not hold a mitigated risk to the acceptance rule', () => {
    expect(
      rules({ risks: [riskInput({ likelihood: 4, impact: 4, residual: { likelihood: 4, impact: 4 } })] }),
    ).toEqual([]);
  });

  it('rejects a residual above the inherent score, and a residual out of range, naming the field', () => {
    const issues = (input: RiskRegisterInput) => {
      try {
        config(input);
        return [];
      } catch (error) {
        if (error instanceof ConfigError) return [...error.issues];
        throw error;
      }
    };
    expect(
      issues({ risks: [riskInput({ likelihood: 2, impact: 3, residual: { likelihood: 3, impact: 3 } })] }),
    ).toEqual([
      'riskRegister.risks[0].residual: residual score 9 is above the inherent score 6: a mitigation cannot raise a risk',
    ]);
    expect(issues({ risks: [riskInput({ residual: { likelihood: 0, impact: 3 } })] })).toEqual([
      'riskRegister.risks[0].residual.likelihood: expected residual likelihood from 1 to 5',
    ]);
  });

  it('prints inherent and residual side by side, "-" where no residual is recorded', () => {
    const input = {
      risks: [
        riskInput({ id: 'R1', likelihood: 3, impact: 5, residual: { likelihood: 1, impact: 5 } }),
        riskInput({ id: 'R2', likelihood: 2, impact: 2 }),
      ],
    };
    const cfg = config(input);
    const text = renderRegister(evaluateRegister(register(input), { asOf, timeZone: 'UTC' }), cfg);
    expect(text).toMatch(/^ID +INHERENT +L x I +RESIDUAL +L x I +STATUS/m);
    expect(text).toMatch(/^R1 +15 +3 x 5 +5 +1 x 5 +mitigated/m);
    expect(text).toMatch(/^R2 +4 +2 x 2 +- +- +mitigated/m);
  });
});
