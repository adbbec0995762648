import type { Config } from '../config/schema.ts';
import type { Verdict } from '../controls/outcome.ts';
import { riskScore } from '../risks/register-schema.ts';
import type { Cadence } from '../shared/period.ts';
import {
  type AuditVerdict,
  type AuditWindow,
  type IgnoredVerdict,
  periodsInWindow,
  verdictName,
  verdictsInWindow,
} from './audit-verdicts.ts';
import { type Criterion, type CriterionScope, criteriaCatalogue } from './criteria-catalogue.ts';

/** How a control evidences a criterion: a test that inspects the system, or a person's upload. */
export type EvidenceMethod = 'automated-test' | 'manual-attestation';

/** A verdict as the audit views cite it: enough to find the record and its signed evidence. */
export interface VerdictRef {
  /** `access-review quarterly 2026-Q3` (results table: `CONTROL#access-review` / `VERDICT#quarterly#2026-Q3`). */
  readonly key: string;
  readonly controlId: string;
  readonly cadence: Cadence;
  readonly periodKey: string;
  readonly verdict: Verdict;
  readonly reasons: readonly string[];
  readonly recordedAt: string;
  readonly manifestKey: string;
  readonly evidenceKey: string;
}

export function verdictRef(verdict: AuditVerdict): VerdictRef {
  return {
    key: verdictName(verdict),
    controlId: verdict.controlId,
    cadence: verdict.cadence,
    periodKey: verdict.periodKey,
    verdict: verdict.verdict,
    reasons: verdict.reasons,
    recordedAt: verdict.lastAttemptAt,
    manifestKey: verdict.manifestKey,
    evidenceKey: verdict.evidenceKey,
  };
}

export interface ControlCoverage {
  readonly controlId: string;
  readonly title: string;
  readonly method: EvidenceMethod;
  readonly testType: string;
  readonly cadence: Cadence;
  readonly owner: string;
  /** Newest verdict in the window; absent when none was recorded (or verdicts were not read). */
  readonly latest?: VerdictRef;
  /** Verdicts in the window by outcome, and the window's complete periods without one. */
  readonly periods: {
    readonly pass: number;
    readonly fail: number;
    readonly error: number;
    readonly missing: number;
  };
}

export interface RiskCoverage {
  readonly riskId: string;
  readonly title: string;
  readonly status: string;
  readonly score: number;
  readonly linkedControls: readonly string[];
}

export interface GapCoverage {
  readonly id: string;
  readonly gap: string;
  readonly status: string;
  readonly targetDate: string;
  readonly owner: string;
}

/**
 * - `passing`: at least one control, and every control's latest verdict in the window is `pass`.
 * - `failing`: some control's latest verdict is `fail`.
 * - `not-checked`: no failure, but some control's latest verdict is `error` or it has none in the window.
 * - `by-design`: controls exist; verdicts were not read.
 * - `risk-register-only`: no control, only risks or remediation items name it.
 * - `not-evidenced`: nothing at all.
 */
export type CriterionState =
  | 'passing'
  | 'failing'
  | 'not-checked'
  | 'by-design'
  | 'risk-register-only'
  | 'not-evidenced';

export interface CriterionCoverage extends Criterion {
  readonly state: CriterionState;
  readonly controls: readonly ControlCoverage[];
  /** "How" for the risk register: risks assessed under this criterion. */
  readonly risks: readonly RiskCoverage[];
  /** Remediation items (gaps) recorded against the criterion that are not done. */
  readonly openGaps: readonly GapCoverage[];
}

export interface CriteriaCoverage {
  readonly asOf: string;
  readonly from: string;
  readonly timeZone: string;
  /** `verdicts`: latest verdicts were read; `design`: only the config (which controls map where). */
  readonly mode: 'verdicts' | 'design';
  readonly criteria: readonly CriterionCoverage[];
  readonly summary: Readonly<Record<CriterionState, number>> & {
    readonly inScope: number;
    readonly planned: number;
    readonly outOfScope: number;
  };
  /** In-scope criteria that no control, risk or gap names. */
  readonly notEvidenced: readonly string[];
  /** In-scope criteria whose state stops `coverage` from exiting 0. */
  readonly blocking: readonly string[];
  readonly ignoredVerdicts: readonly IgnoredVerdict[];
}

export interface CoverageInput {
  readonly config: Pick<Config, 'controls' | 'riskRegister' | 'criteria' | 'timeZone'>;
  readonly window: AuditWindow;
  /** Verdict records (any order, any control); `undefined` means they were not read. */
  readonly verdicts?: readonly AuditVerdict[];
}

const methodOf = (testType: string): EvidenceMethod =>
  testType === 'manual-attestation' ? 'manual-attestation' : 'automated-test';

function stateOf(
  controls: readonly ControlCoverage[],
  mentioned: boolean,
  mode: CriteriaCoverage['mode'],
): CriterionState {
  if (controls.length === 0) return mentioned ? 'risk-register-only' : 'not-evidenced';
  if (mode === 'design') return 'by-design';
  if (controls.some((c) => c.latest?.verdict === 'fail')) return 'failing';
  if (controls.every((c) => c.latest?.verdict === 'pass')) return 'passing';
  return 'not-checked';
}

/** Which state keeps an in-scope criterion from counting as covered. */
export function isBlocking(state: CriterionState): boolean {
  return state !== 'passing' && state !== 'by-design';
}

/**
 * Per criterion of the catalogue: the controls that evidence it and how, their latest verdicts in
 * the window, the risks assessed under it and its open gaps. Pure; the caller reads the verdicts.
 */
export function criteriaCoverage(input: CoverageInput): CriteriaCoverage {
  const { config, window } = input;
  const mode = input.verdicts === undefined ? 'design' : 'verdicts';
  const { byControl, ignored } = verdictsInWindow(input.verdicts ?? [], config.controls, window);
  const owedByCadence: Partial<Record<Cadence, number>> = {};
  const controlCoverage = new Map<string, ControlCoverage>(
    config.controls.map((control) => {
      const verdicts = byControl.get(control.id) ?? [];
      const owed = owedByCadence[control.cadence] ?? periodsInWindow(control.cadence, window).length;
      owedByCadence[control.cadence] = owed;
      const count = (verdict: Verdict) => verdicts.filter((v) => v.verdict === verdict).length;
      const latest = verdicts[0];
      return [
        control.id,
        {
          controlId: control.id,
          title: control.title,
          method: methodOf(control.test.type),
          testType: control.test.type,
          cadence: control.cadence,
          owner: control.owner,
          ...(latest ? { latest: verdictRef(latest) } : {}),
          periods: {
            pass: count('pass'),
            fail: count('fail'),
            error: count('error'),
            missing: Math.max(0, owed - verdicts.length),
          },
        },
      ];
    }),
  );

  const catalogue = criteriaCatalogue(config.criteria);
  const known = new Set(catalogue.map((c) => c.id));
  // A criterion named by a control but missing from the catalogue (only possible for unvalidated
  // input) is shown rather than dropped, so its evidence is not lost from view.
  const extra = [...new Set(config.controls.flatMap((c) => c.criteria))]
    .filter((id) => !known.has(id))
    .map(
      (id): Criterion => ({
        id,
        title: '(not in the catalogue)',
        group: id.split('.')[0] ?? id,
        groupTitle: '',
        scope: 'in-scope',
        source: 'config',
      }),
    );

  const risks = config.riskRegister?.risks ?? [];
  const gaps = config.riskRegister?.remediations ?? [];
  const criteria = [...catalogue, ...extra].map((criterion): CriterionCoverage => {
    const controls = config.controls
      .filter((control) => control.criteria.includes(criterion.id))
      .flatMap((control) => controlCoverage.get(control.id) ?? []);
    const riskRows = risks
      .filter((risk) => risk.criteria.includes(criterion.id))
      .map((risk) => ({
        riskId: risk.id,
        title: risk.title,
        status: risk.status,
        score: riskScore(risk),
        linkedControls: risk.linkedControls,
      }));
    const openGaps = gaps
      .filter((item) => item.criteria.includes(criterion.id) && item.status !== 'done')
      .map((item) => ({
        id: item.id,
        gap: item.gap,
        status: item.status,
        targetDate: item.targetDate,
        owner: item.owner,
      }));
    return {
      ...criterion,
      state: stateOf(controls, riskRows.length + openGaps.length > 0, mode),
      controls,
      risks: riskRows,
      openGaps,
    };
  });

  const summary = {
    passing: 0,
    failing: 0,
    'not-checked': 0,
    'by-design': 0,
    'risk-register-only': 0,
    'not-evidenced': 0,
    inScope: 0,
    planned: 0,
    outOfScope: 0,
  };
  const scopeField: Record<CriterionScope, 'inScope' | 'planned' | 'outOfScope'> = {
    'in-scope': 'inScope',
    planned: 'planned',
    'out-of-scope': 'outOfScope',
  };
  for (const criterion of criteria) {
    summary[scopeField[criterion.scope]] += 1;
    if (criterion.scope === 'in-scope') summary[criterion.state] += 1;
  }
  const inScope = criteria.filter((c) => c.scope === 'in-scope');
  return {
    asOf: window.asOf.toISOString(),
    from: window.from,
    timeZone: window.timeZone,
    mode,
    criteria,
    summary,
    notEvidenced: inScope.filter((c) => c.state === 'not-evidenced').map((c) => c.id),
    blocking: inScope.filter((c) => isBlocking(c.state)).map((c) => c.id),
    ignoredVerdicts: ignored,
  };
}
