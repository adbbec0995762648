import * as z from 'zod';
import { checkCriteriaReferences, criteriaSettingsSchema } from '../audit/criteria-catalogue.ts';
import { checkReadinessReferences, readinessSettingsSchema } from '../audit/readiness-schema.ts';
import { populationSettingsSchema, samplingSettingsSchema } from '../audit/sample-size.ts';
import { controlNeeds, controlTestParamsSchema } from '../controls/registry.ts';
import { notificationsSchema } from '../notify/notifications-schema.ts';
import { checkRegisterReferences, riskRegisterSchema } from '../risks/register-schema.ts';
import {
  criterionSchema,
  envVarNameSchema,
  isoDateSchema,
  secretIdSchema,
  slugSchema,
} from '../shared/identifiers.ts';
import { CADENCES, isValidTimeZone } from '../shared/period.ts';

export const ownerSchema = z
  .strictObject({
    id: slugSchema,
    name: z.string().min(1),
    email: z.email({ message: 'expected an email address' }),
    /** Slack channel for this owner's digests, e.g. `#sec-alerts`. Omit for email only. */
    slackChannel: z
      .string()
      .regex(/^#[a-z0-9._-]{1,80}$/, 'expected a Slack channel such as #security')
      .optional(),
  })
  .describe('A person or team that owns controls, risks or remediation items and receives reminders.');

export const targetSchema = z
  .strictObject({
    name: slugSchema,
    /**
     * Where the connection string comes from; never from this file. Locally `env` is read; in AWS
     * the Lambda reads `secretId` from Secrets Manager (a secret holding a postgres:// URL or the
     * RDS JSON shape {host, port, username, password, dbname}).
     */
    connection: z
      .strictObject({
        env: envVarNameSchema.optional(),
        secretId: secretIdSchema.optional(),
      })
      .refine((c) => c.env !== undefined || c.secretId !== undefined, 'expected `env` or `secretId`'),
    /** @default 30000 — a runaway check is stopped by PostgreSQL, not left holding locks. */
    statementTimeoutMs: z.number().int().min(100).max(900_000).default(30_000),
  })
  .describe('A PostgreSQL database that control tests read, read-only.');

export const controlSchema = z.strictObject({
  id: slugSchema,
  title: z.string().min(1),
  description: z.string().optional(),
  /** SOC 2 Trust Services Criteria this control evidences. */
  criteria: z.array(criterionSchema).min(1, 'expected at least one SOC 2 criterion'),
  cadence: z.enum(CADENCES, { message: `expected one of ${CADENCES.join(', ')}` }),
  owner: slugSchema,
  /** First day the control is in force; schedule health expects a verdict for every period since. */
  addedOn: isoDateSchema.optional(),
  test: controlTestParamsSchema,
});

export const evidenceSettingsSchema = z.strictObject({
  /** @default 7 — "1 year active, 7 years archive". */
  retentionYears: z.number().int().min(1).max(100).default(7),
  /** @default 'COMPLIANCE' — nobody, not even root, can shorten it. GOVERNANCE allows privileged overrides. */
  objectLockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']).default('COMPLIANCE'),
  /** @default 365 — after the active year, evidence moves to an archive storage class. */
  archiveAfterDays: z.number().int().min(30).default(365),
});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    /** IANA time zone in which periods are cut. @default 'UTC' */
    timeZone: z
      .string()
      .refine(isValidTimeZone, 'expected an IANA time zone such as UTC or Europe/Berlin')
      .default('UTC'),
    owners: z.array(ownerSchema).min(1, 'expected at least one owner'),
    targets: z.array(targetSchema).default([]),
    controls: z.array(controlSchema).min(1, 'expected at least one control'),
    evidence: evidenceSettingsSchema.default({
      retentionYears: 7,
      objectLockMode: 'COMPLIANCE',
      archiveAfterDays: 365,
    }),
    notifications: notificationsSchema.optional(),
    riskRegister: riskRegisterSchema.optional(),
    /** The SOC 2 criteria catalogue `coverage` reports on. @default the reference mapping's criteria */
    criteria: criteriaSettingsSchema.optional(),
    /** The pre-audit checklist `readiness` computes. @default the reference Pre-Audit Checklist */
    readiness: readinessSettingsSchema.optional(),
    /** Populations the runs write. @default { cap: 1000000 } */
    populations: populationSettingsSchema.optional(),
    /** The sample-size tables `sample` uses. @default the figures in lib/audit/sample-size.ts */
    sampling: samplingSettingsSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const ownerIds = new Set(config.owners.map((o) => o.id));
    const targetNames = new Set(config.targets.map((t) => t.name));
    reportDuplicates(
      config.owners.map((o) => o.id),
      ['owners'],
      'id',
      ctx,
    );
    reportDuplicates(
      config.targets.map((t) => t.name),
      ['targets'],
      'name',
      ctx,
    );
    reportDuplicates(
      config.controls.map((c) => c.id),
      ['controls'],
      'id',
      ctx,
    );
    if (config.riskRegister) {
      const controlIds = new Set(config.controls.map((c) => c.id));
      checkRegisterReferences(config.riskRegister, { ownerIds, controlIds }, ctx);
    }
    checkCriteriaReferences(config, ctx);
    checkReadinessReferences(config.readiness, { ownerIds, controls: config.controls }, ctx);
    config.controls.forEach((control, index) => {
      if (!ownerIds.has(control.owner)) {
        ctx.addIssue({
          code: 'custom',
          path: ['controls', index, 'owner'],
          message: `unknown owner "${control.owner}"; expected one of ${[...ownerIds].join(', ')}`,
        });
      }
      // The test declares which targets it opens and from which field; nothing is guessed from names.
      for (const target of controlNeeds(control.test).targets) {
        if (targetNames.has(target.name)) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['controls', index, ...target.field],
          message: `unknown target "${target.name}"; expected one of ${[...targetNames].join(', ') || '(no targets declared)'}`,
        });
      }
    });
  });

function reportDuplicates(
  values: string[],
  path: (string | number)[],
  field: string,
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (seen.has(value))
      ctx.addIssue({
        code: 'custom',
        path: [...path, index, field],
        message: `duplicate ${field} "${value}"`,
      });
    seen.add(value);
  });
}

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ControlConfig = Config['controls'][number];
export type OwnerConfig = Config['owners'][number];
export type TargetConfig = Config['targets'][number];
