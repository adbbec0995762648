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
  positiveDurationSchema,
  secretIdSchema,
  slugSchema,
} from '../shared/identifiers.ts';
import { CADENCES, isValidTimeZone } from '../shared/period.ts';

export const ownerSchema = z
  .strictObject({
    id: slugSchema,
    name: z.string().min(1),
    email: z.email({ message: 'expected an email address' }),
    slackChannel: z
      .string()
      .regex(/^#[a-z0-9._-]{1,80}$/, 'expected a Slack channel such as #security')
      .optional()
      .describe("Slack channel for this owner's digests, e.g. `#sec-alerts`. Omit for email only."),
  })
  .describe('A person or team that owns controls, risks or remediation items and receives reminders.');

export const targetSchema = z
  .strictObject({
    name: slugSchema,
    connection: z
      .strictObject({
        env: envVarNameSchema.optional(),
        secretId: secretIdSchema.optional(),
      })
      .refine((c) => c.env !== undefined || c.secretId !== undefined, 'expected `env` or `secretId`')
      .describe(
        'Where the connection string comes from; never from this file. Locally `env` is read; in AWS the Lambda reads `secretId` from Secrets Manager (a secret holding a postgres:// URL or the RDS JSON shape {host, port, username, password, dbname}).',
      ),
    statementTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(900_000)
      .default(30_000)
      .describe('a runaway check is stopped by PostgreSQL, not left holding locks.'),
  })
  .describe('A PostgreSQL database that control tests read, read-only.');

export const controlSchema = z.strictObject({
  id: slugSchema,
  title: z.string().min(1),
  description: z.string().optional(),
  criteria: z
    .array(criterionSchema)
    .min(1, 'expected at least one SOC 2 criterion')
    .describe('SOC 2 Trust Services Criteria this control evidences.'),
  cadence: z.enum(CADENCES, { message: `expected one of ${CADENCES.join(', ')}` }),
  owner: slugSchema,
  addedOn: isoDateSchema
    .optional()
    .describe('First day the control is in force; schedule health expects a verdict for every period since.'),
  test: controlTestParamsSchema,
  /**
   * `required`: a period is not complete until a person signs off its evidence (`soc2-evidence
   * sign-off --control <id> --period <key>`; for an access review, a decision per flagged account).
   * @default not required
   */
  review: z
    .enum(['required'])
    .optional()
    .describe(
      'required: each period needs a signed review (soc2-evidence sign-off --control ID --period KEY) before it counts as complete',
    ),
  /** How long after a period closes its review is due (ISO-8601). @default 'P14D' */
  reviewWithin: positiveDurationSchema
    .optional()
    .describe('How long after a period closes its review sign-off is due (ISO-8601 duration). Default P14D.'),
});

export const documentSchema = z
  .strictObject({
    id: slugSchema,
    title: z.string().trim().min(1).max(200),
    /** The document in this repository, relative to the config file: its SHA-256 is signed with each review. */
    path: z.string().min(1).optional(),
    /** Where the document lives when it is not in this repository (no content hash is then recorded). */
    url: z.url({ message: 'expected a URL' }).optional(),
    owner: slugSchema,
    /** How often it must be reviewed and approved. @default 'annual' */
    reviewCadence: z.enum(CADENCES, { message: `expected one of ${CADENCES.join(', ')}` }).default('annual'),
    /** SOC 2 criteria the document supports (CC1.x, CC2.x, CC5.3 for policies). @default [] */
    criteria: z.array(criterionSchema).default([]),
  })
  .refine((d) => d.path !== undefined || d.url !== undefined, 'expected `path` or `url`')
  .describe(
    'A policy or other governed document (the compliance mapping, the risk assessment): reviewed and approved with `soc2-evidence sign-off --document ID` on its cadence.',
  );

export const evidenceSettingsSchema = z.strictObject({
  retentionYears: z.number().int().min(1).max(100).default(7).describe('"1 year active, 7 years archive".'),
  objectLockMode: z
    .enum(['COMPLIANCE', 'GOVERNANCE'])
    .default('COMPLIANCE')
    .describe('nobody, not even root, can shorten it. GOVERNANCE allows privileged overrides.'),
  archiveAfterDays: z
    .number()
    .int()
    .min(30)
    .default(365)
    .describe('after the active year, evidence moves to an archive storage class.'),
});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    timeZone: z
      .string()
      .refine(isValidTimeZone, 'expected an IANA time zone such as UTC or Europe/Berlin')
      .default('UTC')
      .describe('IANA time zone in which periods are cut.'),
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
    criteria: criteriaSettingsSchema
      .optional()
      .describe("The SOC 2 criteria catalogue `coverage` reports on. reference mapping's criteria"),
    readiness: readinessSettingsSchema
      .optional()
      .describe('The pre-audit checklist `readiness` computes. reference Pre-Audit Checklist'),
    documents: z
      .array(documentSchema)
      .optional()
      .describe('Governed documents and their review cadence ("security policies current and approved").'),
    populations: populationSettingsSchema
      .optional()
      .describe('Populations the runs write (default cap: 1,000,000 items per population).'),
    sampling: samplingSettingsSchema
      .optional()
      .describe('The sample-size tables `sample` uses (defaults: lib/audit/sample-size.ts).'),
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
    reportDuplicates(
      (config.documents ?? []).map((d) => d.id),
      ['documents'],
      'id',
      ctx,
    );
    (config.documents ?? []).forEach((document, index) => {
      if (!ownerIds.has(document.owner))
        ctx.addIssue({
          code: 'custom',
          path: ['documents', index, 'owner'],
          message: `unknown owner "${document.owner}"; expected one of ${[...ownerIds].join(', ')}`,
        });
    });
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
export type DocumentConfig = NonNullable<Config['documents']>[number];
