import { formatIssue, formatPath } from '../shared/parse.ts';
import { assetState, type RiskFinding } from './evaluate-register.ts';
import {
  checkRegisterReferences,
  type RiskRegister,
  residualScore,
  riskRegisterSchema,
  riskScore,
} from './register-schema.ts';

/** What the pull-request gate refuses. */
export const GATE_VIOLATION_KINDS = [
  'invalid-register',
  'no-asset-inventory',
  'missing-walk-through',
  'asset-added-without-walk-through',
  'unencrypted-at-rest',
  'missing-mitigation',
  'acceptance-above-threshold',
  'unknown-owner',
  'unknown-control',
] as const;
export type GateViolationKind = (typeof GATE_VIOLATION_KINDS)[number];

export interface GateViolation {
  readonly kind: GateViolationKind;
  /** Where in the register file, e.g. `assets[3]` or `risks[0].owner`. */
  readonly path: string;
  /** One line a reviewer can act on. */
  readonly message: string;
}

export interface RegisterCheckInput {
  /** The register as parsed from YAML, not yet validated (the gate reports schema errors too). */
  readonly register: unknown;
  /**
   * The register at the pull request's base, as parsed from YAML; `null` when the file did not
   * exist there (everything is new). Omitted: no comparison.
   */
  readonly base?: unknown;
  /** Names the base in messages, e.g. `origin/main`. */
  readonly baseLabel?: string;
  readonly ownerIds: ReadonlySet<string>;
  readonly controlIds: ReadonlySet<string>;
}

export interface RegisterCheckResult {
  readonly violations: readonly GateViolation[];
  /** Asset ids that are not on the base (empty without a base). */
  readonly addedAssets: readonly string[];
  /** The validated register, when it parsed. */
  readonly register?: RiskRegister;
}

/** Asset ids of a base register read leniently: an older register may not validate today. */
function baseAssetIds(base: unknown): Set<string> {
  const assets = (base as { assets?: unknown } | null | undefined)?.assets;
  if (!Array.isArray(assets)) return new Set();
  return new Set(
    assets
      .map((asset) => (asset as { id?: unknown } | null)?.id)
      .filter((id): id is string => typeof id === 'string'),
  );
}

/**
 * The pull-request gate: every reason the register may not be merged as it stands. Pure. Date rules
 * (overdue reviews) are not the gate's business: a pull request cannot make time pass.
 */
export function checkRegister(input: RegisterCheckInput): RegisterCheckResult {
  const parsed = riskRegisterSchema.safeParse(input.register ?? {});
  if (!parsed.success) {
    return {
      violations: parsed.error.issues.map((issue) => {
        const text = formatIssue(issue);
        const path = formatPath(issue.path) || '(root)';
        return { kind: 'invalid-register', path, message: text.slice(path.length + 2) || text };
      }),
      addedAssets: [],
    };
  }
  const register = parsed.data;
  const violations: GateViolation[] = [];

  checkRegisterReferences(
    register,
    { ownerIds: input.ownerIds, controlIds: input.controlIds },
    {
      addIssue: ({ path, message }) =>
        violations.push({
          kind: message.startsWith('unknown control') ? 'unknown-control' : 'unknown-owner',
          path: formatPath(path),
          message,
        }),
    },
    [],
  );

  if (register.assets.length === 0 && register.risks.length > 0) {
    violations.push({
      kind: 'no-asset-inventory',
      path: 'assets',
      message:
        'the register has risks but no asset inventory, so no STRIDE walk-through can be checked: list the assets and point each risk at one by id',
    });
  }

  const onBase = input.base === undefined ? undefined : baseAssetIds(input.base);
  const addedAssets: string[] = [];
  register.assets.forEach((asset, index) => {
    const added = onBase !== undefined && !onBase.has(asset.id);
    if (added) addedAssets.push(asset.id);
    const state = assetState(asset, register.risks);
    const gap = state.findings.find((f: RiskFinding) => f.rule === 'stride-gap');
    if (gap) {
      const missing = state.missing.join(', ');
      violations.push(
        added
          ? {
              kind: 'asset-added-without-walk-through',
              path: `assets[${index}]`,
              message: `asset ${asset.id} is new (not on ${input.baseLabel ?? 'the base'}) and has no complete STRIDE walk-through: missing ${missing}; add a risk against it or a notApplicable reason for each before merging`,
            }
          : {
              kind: 'missing-walk-through',
              path: `assets[${index}]`,
              message: `asset ${asset.id}: STRIDE walk-through missing for ${missing} (no risk against it and no notApplicable reason)`,
            },
      );
    }
    if (state.findings.some((f) => f.rule === 'unencrypted-at-rest')) {
      violations.push({
        kind: 'unencrypted-at-rest',
        path: `assets[${index}].encryption.atRest`,
        message: `asset ${asset.id} is ${asset.classification} but not encrypted at rest${asset.encryption.atRest.encrypted === 'unknown' ? ' (unknown)' : ''}, and no information-disclosure risk against it is accepted with a reason`,
      });
    }
  });

  const threshold = register.settings.scoreThreshold;
  register.risks.forEach((risk, index) => {
    const score = riskScore(risk);
    if (score >= threshold && !risk.mitigation) {
      violations.push({
        kind: 'missing-mitigation',
        path: `risks[${index}].mitigation`,
        message: `risk ${risk.id}: inherent score ${score} (${risk.likelihood} x ${risk.impact}) is at or above the threshold ${threshold}, but no mitigation is written`,
      });
    }
    const residual = residualScore(risk);
    if (risk.status === 'accepted' && residual >= threshold) {
      violations.push({
        kind: 'acceptance-above-threshold',
        path: `risks[${index}].status`,
        message: `risk ${risk.id} is accepted at a residual score of ${residual}, at or above the threshold ${threshold}`,
      });
    }
  });

  return { violations, addedAssets, register };
}
