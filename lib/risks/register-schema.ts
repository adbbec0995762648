import * as z from 'zod';
import {
  criterionSchema,
  durationSchema,
  durationToMs,
  isoDateSchema,
  slugSchema,
} from '../shared/identifiers.ts';
import { CADENCES } from '../shared/period.ts';

/** STRIDE threat categories, one per risk (the reference walks each asset through all six). */
export const STRIDE_CATEGORIES = [
  'spoofing',
  'tampering',
  'repudiation',
  'information-disclosure',
  'denial-of-service',
  'elevation-of-privilege',
] as const;
export type StrideCategory = (typeof STRIDE_CATEGORIES)[number];

export const DATA_CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

/** Classifications whose data must be encrypted at rest (or the exposure explicitly accepted). */
export const SENSITIVE_CLASSIFICATIONS: ReadonlySet<DataClassification> = new Set([
  'confidential',
  'restricted',
]);

/** Asset ids are kebab-case slugs (`webhook-signing-secrets`); risks point at them with `asset`. */
export const assetIdSchema = slugSchema;

/**
 * How one side (at rest, in transit) of an asset is protected. `encrypted: true` must name how;
 * `false` is a plain statement that it is not (the reference's "Plain-stored"); `'unknown'` means
 * nobody has checked, which for confidential or restricted data counts as not encrypted.
 */
const encryptionStateSchema = z
  .strictObject({
    encrypted: z.union([z.boolean(), z.literal('unknown')], {
      message: 'expected true, false or "unknown"',
    }),
    /** The method or the remark as the owner would write it ("Fernet AES-128", "Plain-stored, HMAC-only use"). */
    detail: z.string().trim().min(1).optional(),
  })
  .superRefine((state, ctx) => {
    if (state.encrypted === true && !state.detail)
      ctx.addIssue({
        code: 'custom',
        path: ['detail'],
        message: 'name the encryption (e.g. "AES-256 (KMS)") when encrypted is true',
      });
  });
export type EncryptionState = z.output<typeof encryptionStateSchema>;

/** Shortest reason accepted for `notApplicable`: "n/a" or "none" is not a written reason. */
export const MIN_REASON_LENGTH = 15;

const writtenReason = (what: string) =>
  z.string().trim().min(MIN_REASON_LENGTH, `write why ${what} (at least ${MIN_REASON_LENGTH} characters)`);

export const assetSchema = z
  .strictObject({
    id: assetIdSchema,
    name: z.string().trim().min(1),
    classification: z.enum(DATA_CLASSIFICATIONS),
    encryption: z.strictObject({ atRest: encryptionStateSchema, inTransit: encryptionStateSchema }),
    /** Who can read and write it, e.g. "Per-tenant DB isolation; admin-only writes". */
    access: z.string().trim().min(1),
    /** Owner id from `owners`: answers for the asset's STRIDE walk-through. */
    owner: slugSchema,
    /** Where the data persists (databases, buckets, secret stores). */
    dataStores: z.array(z.string().trim().min(1)).min(1, 'expected at least one data store'),
    /**
     * STRIDE categories that cannot apply to this asset, each with a written reason. Every other
     * category needs at least one risk against the asset. @default []
     */
    notApplicable: z
      .array(
        z.strictObject({
          category: z.enum(STRIDE_CATEGORIES),
          reason: writtenReason('the category does not apply'),
        }),
      )
      .default([]),
    notes: z.string().trim().optional(),
  })
  .describe('A persisted-data asset of the inventory, walked through all six STRIDE categories.');

/**
 * `mitigated`: the written mitigation is in place. `partial`: some of it is, the rest is planned
 * (`plannedMitigationDate`). `open`: not yet mitigated. `accepted`: the owner accepted the residual
 * risk; the `mitigation` field then holds the acceptance rationale.
 */
export const RISK_STATUSES = ['open', 'mitigated', 'partial', 'accepted'] as const;
export type RiskStatus = (typeof RISK_STATUSES)[number];

export const REMEDIATION_STATUSES = ['open', 'in-progress', 'done'] as const;
export type RemediationStatus = (typeof REMEDIATION_STATUSES)[number];

/** Register ids (`R1`, `G2`, `RISK-014`) appear in DynamoDB keys, messages and OSCAL props. */
export const registerIdSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/, 'expected a short id of letters, digits and hyphens (e.g. "R1")');

const oneToFive = (what: string) =>
  z
    .number({ message: `expected ${what} as a whole number from 1 to 5` })
    .int(`expected ${what} as a whole number from 1 to 5`)
    .min(1, `expected ${what} from 1 to 5`)
    .max(5, `expected ${what} from 1 to 5`);

export const riskSchema = z
  .strictObject({
    id: registerIdSchema,
    title: z.string().trim().min(1),
    /**
     * The id of the asset (from `assets`) the threat is against. A register without an inventory
     * may still name the asset in free text; `risks check` reports that as a violation.
     */
    asset: z.string().trim().min(1),
    /** Taken from the asset when the register has an inventory; if given, must agree with it. */
    classification: z.enum(DATA_CLASSIFICATIONS).optional(),
    threat: z.enum(STRIDE_CATEGORIES),
    /** Inherent likelihood (before mitigation), 1-5. The threshold rule applies to this score. */
    likelihood: oneToFive('likelihood'),
    /** Inherent impact (before mitigation), 1-5. */
    impact: oneToFive('impact'),
    /**
     * The score once the mitigation works. Optional: omitted, the residual is the inherent score
     * (nothing is assumed to reduce it). An `accepted` risk accepts this residual score.
     */
    residual: z
      .strictObject({ likelihood: oneToFive('residual likelihood'), impact: oneToFive('residual impact') })
      .optional(),
    /**
     * The written mitigation (for `accepted` risks: the acceptance rationale). Omitted or blank
     * means "none written", which is a violation once the score reaches the threshold.
     */
    mitigation: z.string().trim().optional(),
    status: z.enum(RISK_STATUSES),
    /** Owner id from `owners`. */
    owner: slugSchema,
    /** Control ids whose latest verdict bears on this risk. @default [] */
    linkedControls: z.array(slugSchema).default([]),
    /** SOC 2 criteria this risk is assessed under. @default [] */
    criteria: z.array(criterionSchema).default([]),
    lastReviewed: isoDateSchema,
    /** Full re-score cadence; the next review is due `lastReviewed` + one cadence. @default 'quarterly' */
    reviewCadence: z.enum(CADENCES).default('quarterly'),
    /** When the remaining mitigation is due; overdue once past while `open` or `partial`. */
    plannedMitigationDate: isoDateSchema.optional(),
    notes: z.string().trim().optional(),
  })
  .describe('One threat to one asset, scored likelihood x impact.');

export const remediationItemSchema = z
  .strictObject({
    id: registerIdSchema,
    gap: z.string().trim().min(1),
    remediation: z.string().trim().min(1),
    targetDate: isoDateSchema,
    /** Owner id from `owners`. */
    owner: slugSchema,
    /** @default 'open' */
    status: z.enum(REMEDIATION_STATUSES).default('open'),
    criteria: z.array(criterionSchema).default([]),
    notes: z.string().trim().optional(),
  })
  .describe('A known gap and the work that closes it, with a target date.');

export const REGISTER_DEFAULTS = {
  scoreThreshold: 12,
  reminderInterval: 'P7D',
  escalateAfter: 3,
  incidentRescoreWithin: 'monthly',
} as const;

export const registerSettingsSchema = z.strictObject({
  /** Likelihood x impact at or above which a written mitigation is required. @default 12 */
  scoreThreshold: z.number().int().min(1).max(25).default(REGISTER_DEFAULTS.scoreThreshold),
  /** An owner is reminded of the same item at most once per interval (ISO-8601). @default 'P7D' */
  reminderInterval: durationSchema
    .refine((value) => durationToMs(value) >= 3_600_000, 'expected at least PT1H')
    .default(REGISTER_DEFAULTS.reminderInterval),
  /** After this many reminders to its owner, an item is escalated at each further reminder. @default 3 */
  escalateAfter: z.number().int().min(1).max(100).default(REGISTER_DEFAULTS.escalateAfter),
  /** Owner id who receives the escalation digest. Omitted: nothing escalates. */
  escalationOwner: slugSchema.optional(),
  /**
   * After a linked control fails, the risk must be re-scored within one step of this cadence from
   * the end of the failing period ("Monthly: incident-driven re-score"). @default 'monthly'
   */
  incidentRescoreWithin: z.enum(CADENCES).default(REGISTER_DEFAULTS.incidentRescoreWithin),
});

export const riskRegisterSchema = z
  .strictObject({
    settings: registerSettingsSchema.default({ ...REGISTER_DEFAULTS }),
    /** The asset inventory. @default [] (a register without one cannot show STRIDE coverage) */
    assets: z.array(assetSchema).default([]),
    risks: z.array(riskSchema).default([]),
    remediations: z.array(remediationItemSchema).default([]),
  })
  .superRefine((register, ctx) => {
    const seen = new Map<string, string>();
    const check = (id: string, path: (string | number)[]) => {
      const first = seen.get(id);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path, message: `duplicate id "${id}" (first used at ${first})` });
      else
        seen.set(
          id,
          path
            .slice(0, 2)
            .map((p) => (typeof p === 'number' ? `[${p}]` : p))
            .join(''),
        );
    };
    for (const [index, risk] of register.risks.entries()) check(risk.id, ['risks', index, 'id']);
    for (const [index, item] of register.remediations.entries())
      check(item.id, ['remediations', index, 'id']);
    checkAssets(register, ctx);
  })
  .describe('The risk register: scored risks, remediation items and reminder settings.');

export type RiskRegister = z.output<typeof riskRegisterSchema>;
export type RiskRegisterInput = z.input<typeof riskRegisterSchema>;
export type Risk = RiskRegister['risks'][number];
export type RemediationItem = RiskRegister['remediations'][number];
export type RegisterSettings = RiskRegister['settings'];

export type Asset = RiskRegister['assets'][number];

/** Inherent likelihood x impact, 1-25. */
export function riskScore(risk: Pick<Risk, 'likelihood' | 'impact'>): number {
  return risk.likelihood * risk.impact;
}

/** Residual likelihood and impact: the stated residual, else the inherent ones. */
export function residualOf(risk: Pick<Risk, 'likelihood' | 'impact' | 'residual'>): {
  likelihood: number;
  impact: number;
} {
  return risk.residual ?? { likelihood: risk.likelihood, impact: risk.impact };
}

/** Residual likelihood x impact (the inherent score when no residual is stated). */
export function residualScore(risk: Pick<Risk, 'likelihood' | 'impact' | 'residual'>): number {
  const { likelihood, impact } = residualOf(risk);
  return likelihood * impact;
}

/** The asset a risk points at, when the register has an inventory and the id is in it. */
export function assetOf(
  register: Pick<RiskRegister, 'assets'>,
  risk: Pick<Risk, 'asset'>,
): Asset | undefined {
  return register.assets.find((asset) => asset.id === risk.asset);
}

/** The risk's classification: its asset's, else the one written on the risk. */
export function classificationOf(
  register: Pick<RiskRegister, 'assets'>,
  risk: Pick<Risk, 'asset' | 'classification'>,
): DataClassification | undefined {
  return assetOf(register, risk)?.classification ?? risk.classification;
}

type RegisterShape = {
  assets: readonly Asset[];
  risks: readonly Pick<
    Risk,
    'asset' | 'classification' | 'threat' | 'id' | 'likelihood' | 'impact' | 'residual'
  >[];
};

/**
 * Inventory rules that make the register unreadable if broken: asset ids unique, every risk
 * pointing at a declared asset (once an inventory exists), classifications agreeing, residual no
 * worse than inherent, and no category both "not applicable" and covered by a risk.
 */
function checkAssets(register: RegisterShape, ctx: z.RefinementCtx): void {
  const assetIds = new Map<string, number>();
  register.assets.forEach((asset, index) => {
    const first = assetIds.get(asset.id);
    if (first !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['assets', index, 'id'],
        message: `duplicate asset id "${asset.id}" (first used at assets[${first}])`,
      });
    else assetIds.set(asset.id, index);
    const seen = new Set<string>();
    asset.notApplicable.forEach((entry, entryIndex) => {
      if (seen.has(entry.category))
        ctx.addIssue({
          code: 'custom',
          path: ['assets', index, 'notApplicable', entryIndex, 'category'],
          message: `"${entry.category}" is listed as not applicable twice`,
        });
      seen.add(entry.category);
      const covering = register.risks.filter((r) => r.asset === asset.id && r.threat === entry.category);
      if (covering.length > 0)
        ctx.addIssue({
          code: 'custom',
          path: ['assets', index, 'notApplicable', entryIndex, 'category'],
          message: `"${entry.category}" is marked not applicable to ${asset.id}, but ${covering.map((r) => r.id).join(', ')} assess${covering.length === 1 ? 'es' : ''} it: remove one`,
        });
    });
  });
  const known = [...assetIds.keys()].join(', ');
  register.risks.forEach((risk, index) => {
    if (risk.residual && risk.residual.likelihood * risk.residual.impact > risk.likelihood * risk.impact)
      ctx.addIssue({
        code: 'custom',
        path: ['risks', index, 'residual'],
        message: `residual score ${risk.residual.likelihood * risk.residual.impact} is above the inherent score ${risk.likelihood * risk.impact}: a mitigation cannot raise a risk`,
      });
    if (register.assets.length === 0) {
      if (risk.classification === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['risks', index, 'classification'],
          message: 'missing; without an asset inventory each risk states its classification',
        });
      return;
    }
    const assetIndex = assetIds.get(risk.asset);
    if (assetIndex === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['risks', index, 'asset'],
        message: `unknown asset "${risk.asset}"; expected one of ${known}`,
      });
      return;
    }
    const asset = register.assets[assetIndex];
    if (asset && risk.classification !== undefined && risk.classification !== asset.classification)
      ctx.addIssue({
        code: 'custom',
        path: ['risks', index, 'classification'],
        message: `"${risk.classification}" disagrees with asset ${asset.id}, classified "${asset.classification}": drop it or fix one`,
      });
  });
}

interface IssueSink {
  addIssue(issue: { code: 'custom'; path: (string | number)[]; message: string }): void;
}

/**
 * Cross-references the register against the rest of the config: every owner and escalation owner
 * exists, every linked control exists. Paths are relative to the config root (`riskRegister.…`).
 */
export function checkRegisterReferences(
  register: RiskRegister,
  known: { readonly ownerIds: ReadonlySet<string>; readonly controlIds: ReadonlySet<string> },
  ctx: IssueSink,
  prefix: (string | number)[] = ['riskRegister'],
): void {
  const owners = [...known.ownerIds].join(', ');
  const controls = [...known.controlIds].join(', ') || '(no controls declared)';
  const owner = (value: string | undefined, path: (string | number)[]) => {
    if (value !== undefined && !known.ownerIds.has(value)) {
      ctx.addIssue({
        code: 'custom',
        path: [...prefix, ...path],
        message: `unknown owner "${value}"; expected one of ${owners}`,
      });
    }
  };
  owner(register.settings.escalationOwner, ['settings', 'escalationOwner']);
  register.risks.forEach((risk, index) => {
    owner(risk.owner, ['risks', index, 'owner']);
    risk.linkedControls.forEach((controlId, controlIndex) => {
      if (!known.controlIds.has(controlId)) {
        ctx.addIssue({
          code: 'custom',
          path: [...prefix, 'risks', index, 'linkedControls', controlIndex],
          message: `unknown control "${controlId}"; expected one of ${controls}`,
        });
      }
    });
  });
  for (const [index, item] of register.remediations.entries())
    owner(item.owner, ['remediations', index, 'owner']);
  for (const [index, asset] of register.assets.entries()) owner(asset.owner, ['assets', index, 'owner']);
}
