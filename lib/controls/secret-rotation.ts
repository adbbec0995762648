import * as z from 'zod';
import {
  durationSchema,
  durationToMs,
  quoteIdentifier,
  secretIdSchema,
  slugSchema,
  sqlIdentifierSchema,
} from '../shared/identifiers.ts';
import { type ControlNeeds, needs } from './control-needs.ts';
import type { ControlContext, ControlTest } from './control-test.ts';
import { wholeDays } from './evaluation-time.ts';
import { ControlCheckError, type ControlOutcome, outcome } from './outcome.ts';
import { type PopulationDeclaration, sortedById } from './population.ts';
import { identityOnce, writeSqlPopulation } from './population-query.ts';
import { requirePort } from './ports.ts';

const ROTATION_EVENTS = {
  name: 'rotation-events',
  description:
    'a successful rotation event in the period, from the audit log, of one configured credential (its resourceId and name)',
} as const satisfies PopulationDeclaration;
const CREDENTIALS = {
  name: 'credentials',
  description:
    'a configured credential with its last rotation as of the run, the source that dated it, and its status',
} as const satisfies PopulationDeclaration;

const secretSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(200)
    .describe('How the secret is called in reasons and evidence, e.g. "Database password".'),
  resourceId: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .describe(
      "`resource_id` of its `secrets_rotation` events in the audit log (the reference SQL's `db_password`).",
    ),
  secretId: secretIdSchema
    .optional()
    .describe(
      'Secrets Manager name or ARN: `LastRotatedDate` (or `CreatedDate` if never rotated), `RotationEnabled`.',
    ),
  iamUser: z
    .string()
    .regex(/^[\w+=,.@-]{1,64}$/, 'expected an IAM user name')
    .optional()
    .describe(
      "IAM user whose access keys are the credential: the oldest active key's `CreateDate` is its age.",
    ),
  maxAge: durationSchema.optional().describe("Overrides the control's `maxAge` for this secret."),
});

export const secretRotationParamsSchema = z
  .strictObject({
    type: z.literal('secret-rotation'),
    target: slugSchema
      .optional()
      .describe('Target holding the audit log; required when any secret has a `resourceId`.'),
    auditLog: z
      .strictObject({
        schema: sqlIdentifierSchema.default('public').describe('Schema of the audit-log table.'),
        table: sqlIdentifierSchema
          .default('audit_log')
          .describe('The audit-log table holding rotation events.'),
        columns: z
          .strictObject({
            timestamp: sqlIdentifierSchema
              .default('timestamp')
              .describe('When the rotation happened (timestamp).'),
            action: sqlIdentifierSchema.default('action').describe('The event kind, compared with `action`.'),
            resourceId: sqlIdentifierSchema
              .default('resource_id')
              .describe("Which secret was rotated, compared with each secret's `resourceId`."),
            success: sqlIdentifierSchema
              .default('success')
              .describe('Whether the rotation succeeded (boolean): only successful rotations count.'),
          })
          .default({
            timestamp: 'timestamp',
            action: 'action',
            resourceId: 'resource_id',
            success: 'success',
          })
          .describe('Column names in the audit log.'),
        action: z
          .string()
          .min(1)
          .max(200)
          .default('secrets_rotation')
          .describe('The `action` value of a rotation event.'),
      })
      .default({
        schema: 'public',
        table: 'audit_log',
        columns: {
          timestamp: 'timestamp',
          action: 'action',
          resourceId: 'resource_id',
          success: 'success',
        },
        action: 'secrets_rotation',
      })
      .describe(
        'Where rotation events are logged (for secrets with `resourceId`); defaults to the reference `audit_log`.',
      ),
    maxAge: durationSchema
      .default('P90D')
      .describe("Oldest acceptable rotation (the reference's 90-day rotation policy)."),
    warnBefore: durationSchema.default('P14D').describe('Warn this long before a secret reaches `maxAge`.'),
    secrets: z
      .array(secretSchema)
      .min(1, 'expected at least one secret')
      .describe(
        'The credentials whose age is checked; each names at least one source (`resourceId`, `secretId` or `iamUser`), and the oldest source decides.',
      ),
  })
  .superRefine((params, ctx) => {
    const seen = new Set<string>();
    params.secrets.forEach((secret, index) => {
      if (!secret.resourceId && !secret.secretId && !secret.iamUser) {
        ctx.addIssue({
          code: 'custom',
          path: ['secrets', index],
          message: 'expected at least one of resourceId, secretId, iamUser',
        });
      }
      if (secret.resourceId && !params.target) {
        ctx.addIssue({
          code: 'custom',
          path: ['target'],
          message: `secrets[${index}].resourceId needs the audit log's target`,
        });
      }
      if (seen.has(secret.name))
        ctx.addIssue({
          code: 'custom',
          path: ['secrets', index, 'name'],
          message: `duplicate name "${secret.name}"`,
        });
      seen.add(secret.name);
    });
  });
export type SecretRotationParams = z.output<typeof secretRotationParamsSchema>;
type SecretConfig = SecretRotationParams['secrets'][number];

export type RotationSource = 'audit-log' | 'secrets-manager' | 'iam-access-keys';

export interface SourceReading {
  readonly source: RotationSource;
  /** When this source says the credential was last rotated (or issued); null when it has no record. */
  readonly lastRotation: string | null;
  /** Set when the source says the secret no longer exists: the control cannot be checked. */
  readonly missing?: string;
  readonly note?: string;
}

export type SecretStatus = 'ok' | 'warning' | 'overdue' | 'no-record' | 'missing';

export interface SecretFinding {
  readonly name: string;
  readonly status: SecretStatus;
  readonly lastRotation: string | null;
  readonly source: RotationSource | null;
  readonly ageDays: number | null;
  readonly maxAge: string;
  readonly dueBy: string | null;
  readonly sources: readonly SourceReading[];
}

/**
 * Pure: every source describes the same credential (or, for IAM, each active key is one), so the
 * oldest rotation on record decides the secret's age: a fresh audit-log row cannot hide an old
 * active key. Sources with no record are ignored when another source dates the credential.
 */
export function judgeSecret(
  secret: { name: string; maxAge: string },
  sources: readonly SourceReading[],
  at: Date,
  warnBeforeMs: number,
): SecretFinding {
  const base = { name: secret.name, maxAge: secret.maxAge, sources };
  const missing = sources.find((reading) => reading.missing);
  const dated = sources
    .filter((reading): reading is SourceReading & { lastRotation: string } => reading.lastRotation !== null)
    .sort((a, b) => Date.parse(a.lastRotation) - Date.parse(b.lastRotation));
  const oldest = dated[0];
  if (!oldest) {
    return {
      ...base,
      status: missing ? 'missing' : 'no-record',
      lastRotation: null,
      source: null,
      ageDays: null,
      dueBy: null,
    };
  }
  const maxAgeMs = durationToMs(secret.maxAge);
  const ageMs = at.getTime() - Date.parse(oldest.lastRotation);
  const dueBy = new Date(Date.parse(oldest.lastRotation) + maxAgeMs).toISOString();
  let status: SecretStatus =
    ageMs > maxAgeMs ? 'overdue' : ageMs > maxAgeMs - warnBeforeMs ? 'warning' : 'ok';
  if (missing) status = 'missing';
  return {
    ...base,
    status,
    lastRotation: oldest.lastRotation,
    source: oldest.source,
    ageDays: wholeDays(ageMs),
    dueBy,
  };
}

async function readAuditLog(
  params: SecretRotationParams,
  context: ControlContext,
  at: Date,
): Promise<Map<string, { last: Date; count: number }>> {
  const resourceIds = params.secrets.flatMap((secret) => (secret.resourceId ? [secret.resourceId] : []));
  const found = new Map<string, { last: Date; count: number }>();
  if (resourceIds.length === 0 || !params.target) return found;
  const { auditLog } = params;
  const c = auditLog.columns;
  const relation = `${auditLog.schema}.${auditLog.table}`;
  await context.ports.postgres.withReadOnlySession(params.target, context.evidence, async (session) => {
    const columns = await session.query<{ column_name: string; data_type: string }>(
      'audit log columns',
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
      [auditLog.schema, auditLog.table],
    );
    if (columns.length === 0)
      throw new ControlCheckError(`table ${relation} does not exist or is not readable`);
    const types = new Map(columns.map((row) => [row.column_name, row.data_type]));
    for (const column of [c.timestamp, c.action, c.resourceId, c.success]) {
      if (!types.has(column)) throw new ControlCheckError(`column ${relation}.${column} does not exist`);
    }
    if (!/^timestamp/.test(types.get(c.timestamp) ?? '')) {
      throw new ControlCheckError(
        `column ${relation}.${c.timestamp} is ${types.get(c.timestamp)}, expected a timestamp`,
      );
    }
    if (types.get(c.success) !== 'boolean') {
      throw new ControlCheckError(
        `column ${relation}.${c.success} is ${types.get(c.success)}, expected boolean`,
      );
    }
    const q = quoteIdentifier;
    // The reference "Secrets rotation evidence" query, for every configured secret at once; only
    // rotations recorded as successful count (a NULL outcome is not a success).
    const rows = await session.query<{ resource_id: string; last_rotated: Date; rotations: string }>(
      'last rotation per secret',
      `SELECT ${q(c.resourceId)}::text AS resource_id, max(${q(c.timestamp)})::timestamptz AS last_rotated, count(*) AS rotations
         FROM ${q(auditLog.schema)}.${q(auditLog.table)}
        WHERE ${q(c.action)} = $1 AND ${q(c.resourceId)}::text = ANY($2::text[])
          AND ${q(c.timestamp)} <= $3 AND ${q(c.success)} IS TRUE
        GROUP BY 1`,
      [auditLog.action, resourceIds, at.toISOString()],
    );
    for (const row of rows)
      found.set(row.resource_id, { last: row.last_rotated, count: Number(row.rotations) });

    // Every rotation in the period, per credential: what an auditor samples to see each one happened.
    const credentials = params.secrets.flatMap((secret) =>
      secret.resourceId ? [{ resourceId: secret.resourceId, name: secret.name }] : [],
    );
    await writeSqlPopulation<{ id: string; resource_id: string; credential: string; at: string }>(
      context,
      session,
      identityOnce(session),
      {
        declaration: ROTATION_EVENTS,
        target: params.target ?? '',
        text: `SELECT * FROM (SELECT credential || '|' || at || '|' || row_number() OVER (PARTITION BY credential, at) AS id,
                      resource_id, credential, at
                 FROM (SELECT n.resource_id, n.credential,
                              to_char(e.${q(c.timestamp)}::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
                         FROM ${q(auditLog.schema)}.${q(auditLog.table)} AS e
                         JOIN unnest($2::text[], $3::text[]) AS n(resource_id, credential)
                           ON n.resource_id = e.${q(c.resourceId)}::text
                        WHERE e.${q(c.action)} = $1 AND e.${q(c.success)} IS TRUE
                          AND e.${q(c.timestamp)} >= $4 AND e.${q(c.timestamp)} < $5) AS events) AS numbered
                ORDER BY id COLLATE "C"`,
        params: [
          auditLog.action,
          credentials.map((credential) => credential.resourceId),
          credentials.map((credential) => credential.name),
          context.period.start.toISOString(),
          context.period.end.toISOString(),
        ],
        toItem: (row) => ({
          id: row.id,
          resourceId: row.resource_id,
          credential: row.credential,
          at: row.at,
        }),
      },
    );
  });
  return found;
}

function afterAsOf(date: Date | undefined, at: Date): boolean {
  return date !== undefined && date.getTime() > at.getTime();
}

async function readSources(
  secret: SecretConfig,
  audit: Map<string, { last: Date; count: number }>,
  context: ControlContext,
  at: Date,
): Promise<SourceReading[]> {
  const readings: SourceReading[] = [];
  if (secret.resourceId) {
    const hit = audit.get(secret.resourceId);
    readings.push({
      source: 'audit-log',
      lastRotation: hit ? hit.last.toISOString() : null,
      note: hit
        ? `${hit.count} successful rotation events`
        : `no successful rotation events for resource ${secret.resourceId}`,
    });
  }
  if (secret.secretId) {
    const secrets = requirePort(context.ports.secrets, 'Secrets Manager reader (secrets port)');
    const description = await secrets.describeSecret(secret.secretId, context.evidence);
    if (!description) {
      readings.push({
        source: 'secrets-manager',
        lastRotation: null,
        missing: `Secrets Manager secret ${secret.secretId} no longer exists`,
      });
    } else if (description.deletedDate) {
      readings.push({
        source: 'secrets-manager',
        lastRotation: null,
        missing: `Secrets Manager secret ${secret.secretId} is scheduled for deletion (${description.deletedDate.toISOString()})`,
      });
    } else {
      const rotated = description.lastRotatedDate ?? description.createdDate;
      const notes = [description.lastRotatedDate ? 'LastRotatedDate' : 'never rotated: CreatedDate'];
      if (!description.rotationEnabled) notes.push('automatic rotation is disabled');
      if (afterAsOf(rotated, at)) {
        readings.push({
          source: 'secrets-manager',
          lastRotation: null,
          note: `rotated after ${at.toISOString()}; its state then is unknown`,
        });
      } else {
        readings.push({
          source: 'secrets-manager',
          lastRotation: rotated?.toISOString() ?? null,
          note: notes.join('; '),
        });
      }
    }
  }
  if (secret.iamUser) {
    const accessKeys = requirePort(context.ports.accessKeys, 'IAM access key reader (accessKeys port)');
    const keys = await accessKeys.listAccessKeys(secret.iamUser, context.evidence);
    if (!keys) {
      readings.push({
        source: 'iam-access-keys',
        lastRotation: null,
        missing: `IAM user ${secret.iamUser} no longer exists`,
      });
    } else {
      const active = keys.filter((key) => key.status === 'Active' && !afterAsOf(key.createDate, at));
      // The oldest active key is the one that has gone longest without rotation.
      const oldest = active.sort((a, b) => a.createDate.getTime() - b.createDate.getTime())[0];
      readings.push({
        source: 'iam-access-keys',
        lastRotation: oldest ? oldest.createDate.toISOString() : null,
        note: oldest
          ? `oldest active key ${oldest.accessKeyId} of ${active.length} active, ${keys.length - active.length} other`
          : `user ${secret.iamUser} has no active access keys`,
      });
    }
  }
  return readings;
}

async function run(params: SecretRotationParams, context: ControlContext): Promise<ControlOutcome> {
  // Secrets Manager and IAM hold only current state, so every source is judged as of the run.
  const at = context.asOf;
  const warnBeforeMs = durationToMs(params.warnBefore);
  const audit = await readAuditLog(params, context, at);
  const findings: SecretFinding[] = [];
  for (const secret of params.secrets) {
    const sources = await readSources(secret, audit, context, at);
    findings.push(
      judgeSecret({ name: secret.name, maxAge: secret.maxAge ?? params.maxAge }, sources, at, warnBeforeMs),
    );
  }

  const errors: string[] = [];
  const reasons: string[] = [];
  const warnings: string[] = [];
  for (const finding of findings) {
    const missing = finding.sources.flatMap((reading) => (reading.missing ? [reading.missing] : []));
    if (finding.status === 'missing') errors.push(`${finding.name}: ${missing.join('; ')}`);
    else if (finding.status === 'no-record') reasons.push(`${finding.name}: no rotation on record`);
    else if (finding.status === 'overdue') {
      reasons.push(
        `${finding.name} was last rotated ${finding.ageDays} days ago (${finding.lastRotation}, ${finding.source}), over the ${finding.maxAge} maximum`,
      );
    } else if (finding.status === 'warning') {
      warnings.push(`${finding.name} is ${finding.ageDays} days old; rotate it before ${finding.dueBy}`);
    }
    for (const reading of finding.sources) {
      if (reading.note?.includes('automatic rotation is disabled'))
        warnings.push(`${finding.name}: automatic rotation is disabled in Secrets Manager`);
    }
  }

  if (context.populations) {
    await context.populations.write(
      CREDENTIALS,
      {
        source: 'api',
        service: 'soc2-evidence',
        operation: 'secret-rotation sources (audit log, Secrets Manager DescribeSecret, IAM ListAccessKeys)',
        request: params.secrets.map(({ name, resourceId, secretId, iamUser }) => ({
          name,
          resourceId,
          secretId,
          iamUser,
        })),
        executedAt: at.toISOString(),
      },
      sortedById(
        findings.map((finding) => ({
          id: finding.name,
          credential: finding.name,
          status: finding.status,
          lastRotation: finding.lastRotation,
          source: finding.source,
          ageDays: finding.ageDays,
          maxAge: finding.maxAge,
        })),
      ),
    );
  }

  const ages = findings.flatMap((finding) => (finding.ageDays === null ? [] : [finding.ageDays]));
  return outcome({
    errors,
    reasons,
    warnings,
    figures: {
      secrets: findings.length,
      overdue: findings.filter((f) => f.status === 'overdue').length,
      noRecord: findings.filter((f) => f.status === 'no-record').length,
      missing: findings.filter((f) => f.status === 'missing').length,
      dueSoon: findings.filter((f) => f.status === 'warning').length,
      oldestDays: ages.length > 0 ? Math.max(...ages) : null,
    },
    details: {
      asOf: at.toISOString(),
      policy: { maxAge: params.maxAge, warnBefore: params.warnBefore },
      secrets: findings,
    },
  });
}

/** The audit log's target, and each secret's Secrets Manager and IAM sources, with their fields. */
function secretRotationNeeds(params: SecretRotationParams): ControlNeeds {
  return needs({
    targets: params.target === undefined ? [] : [{ name: params.target, field: ['test', 'target'] }],
    describedSecrets: params.secrets.flatMap((secret, index) =>
      secret.secretId === undefined
        ? []
        : [{ secretId: secret.secretId, field: ['test', 'secrets', index, 'secretId'] as const }],
    ),
    iamUsers: params.secrets.flatMap((secret, index) =>
      secret.iamUser === undefined
        ? []
        : [{ userName: secret.iamUser, field: ['test', 'secrets', index, 'iamUser'] as const }],
    ),
  });
}

export const secretRotation: ControlTest<SecretRotationParams> = {
  type: 'secret-rotation',
  description:
    'Secret rotation: every configured secret was rotated within its maximum age (audit log, Secrets Manager, IAM keys).',
  paramsSchema: secretRotationParamsSchema,
  needs: secretRotationNeeds,
  populations: [ROTATION_EVENTS, CREDENTIALS],
  run,
};
