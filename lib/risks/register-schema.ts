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
    /** The persisted-data asset the threat is against, e.g. "Webhook signing secrets". */
    asset: z.string().trim().min(1),
    classification: z.enum(DATA_CLASSIFICATIONS),
    threat: z.enum(STRIDE_CATEGORIES),
    likelihood: oneToFive('likelihood'),
    impact: oneToFive('impact'),
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
});

export const riskRegisterSchema = z
  .strictObject({
    settings: registerSettingsSchema.default({ ...REGISTER_DEFAULTS }),
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
  })
  .describe('The risk register: scored risks, remediation items and reminder settings.');

export type RiskRegister = z.output<typeof riskRegisterSchema>;
export type RiskRegisterInput = z.input<typeof riskRegisterSchema>;
export type Risk = RiskRegister['risks'][number];
export type RemediationItem = RiskRegister['remediations'][number];
export type RegisterSettings = RiskRegister['settings'];

/** Likelihood x impact, 1-25. */
export function riskScore(risk: Pick<Risk, 'likelihood' | 'impact'>): number {
  return risk.likelihood * risk.impact;
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
}
