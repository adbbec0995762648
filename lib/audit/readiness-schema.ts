import * as z from 'zod';
import { keyPrefixSchema } from '../controls/object-location.ts';
import { CONTROL_TEST_TYPES, type ControlTestType } from '../controls/registry.ts';
import { durationSchema, positiveDurationSchema, slugSchema } from '../shared/identifiers.ts';
import { CADENCES } from '../shared/period.ts';

/** The reference Pre-Audit Checklist's three headings. */
export const READINESS_SECTIONS = ['documentation', 'technical-controls', 'evidence-collection'] as const;
export type ReadinessSection = (typeof READINESS_SECTIONS)[number];

const testTypeSchema = z.enum(CONTROL_TEST_TYPES as [ControlTestType, ...ControlTestType[]], {
  message: `expected a control test type: ${CONTROL_TEST_TYPES.join(', ')}`,
});

const common = {
  /** Stable id, used in readiness.json and to replace a default item. */
  id: slugSchema,
  /** The checklist line, e.g. "Access reviews completed". */
  title: z.string().trim().min(1).max(200),
  section: z.enum(READINESS_SECTIONS),
  /**
   * Which controls' verdicts decide the item: `controls` (ids) or every control of one of `testTypes`.
   * Exactly one of the two.
   */
  controls: z.array(slugSchema).min(1).optional(),
  testTypes: z.array(testTypeSchema).min(1).optional(),
};

/** Ready when the newest verdict in the window of every selected control is `pass`. */
const latestVerdictItemSchema = z.strictObject({ ...common, kind: z.literal('latest-verdict') });

/**
 * Ready when every complete `per` period in the window (or in its last `lookback`) has at least
 * one `pass` among the selected controls' verdicts: "an access review in every quarter", "a restore
 * test per quarter", "the weekly scans".
 */
const everyPeriodItemSchema = z.strictObject({
  ...common,
  kind: z.literal('every-period'),
  /** @default 'quarterly' */
  per: z.enum(CADENCES).default('quarterly'),
  /** Only the periods ending in this last stretch of the window (ISO-8601, e.g. P28D). @default the whole window */
  lookback: positiveDurationSchema.optional(),
});

/**
 * Ready when the newest verdict's `oldestEvent` figure (recorded by `log-completeness`) is at least
 * `atLeast` older than the time of that check: "Audit logs available (1 year)".
 */
const retentionItemSchema = z.strictObject({
  ...common,
  kind: z.literal('retention'),
  /** The figure holding the oldest retained event's ISO time. @default 'oldestEvent' */
  figure: z.literal('oldestEvent').default('oldestEvent'),
  /** @default 'P365D' */
  atLeast: durationSchema.default('P365D'),
});

/**
 * A document a person provides. Its status comes from the `manual-attestation` control(s) whose
 * `prefix` equals this one (so the control that checks the upload folder decides), or from
 * `controls`; with neither it is `unknown`, and the output says where to upload what.
 */
const manualItemSchema = z.strictObject({
  ...common,
  kind: z.literal('manual'),
  /** Owner id from `owners`. @default readiness.defaultOwner */
  owner: slugSchema.optional(),
  /** Where to upload it in the evidence bucket; `{period}` is the attestation control's period key. */
  prefix: keyPrefixSchema,
  /** What to upload, quoted in the output. */
  expects: z.string().trim().min(1).max(300),
});

export const readinessItemSchema = z
  .discriminatedUnion('kind', [
    latestVerdictItemSchema,
    everyPeriodItemSchema,
    retentionItemSchema,
    manualItemSchema,
  ])
  .superRefine((item, ctx) => {
    const selectors = (item.controls ? 1 : 0) + (item.testTypes ? 1 : 0);
    if (item.kind !== 'manual' && selectors !== 1)
      ctx.addIssue({
        code: 'custom',
        path: ['controls'],
        message: 'expected exactly one of `controls` or `testTypes`',
      });
    if (item.kind === 'manual' && selectors > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['controls'],
        message: 'expected at most one of `controls` or `testTypes`',
      });
  })
  .describe('One line of the pre-audit checklist and how its status is computed.');

export type ReadinessItem = z.output<typeof readinessItemSchema>;
export type ReadinessItemInput = z.input<typeof readinessItemSchema>;

const upload = (name: string) => `attestations/${name}/{period}/`;

/**
 * The reference's Pre-Audit Checklist, item for item. Derived items pick their controls by test
 * type, so the defaults work with any config; manual items name the folder to upload to.
 */
export const DEFAULT_READINESS_ITEMS: readonly ReadinessItemInput[] = [
  {
    id: 'security-policies',
    section: 'documentation',
    title: 'Security policies current and approved',
    kind: 'manual',
    prefix: upload('security-policies'),
    expects: 'the approved security policies with their approval record',
  },
  {
    id: 'incident-response-playbook',
    section: 'documentation',
    title: 'Incident response playbook updated',
    kind: 'manual',
    prefix: upload('incident-response-playbook'),
    expects: 'the current incident response playbook',
  },
  {
    id: 'architecture-diagrams',
    section: 'documentation',
    title: 'System architecture diagrams current',
    kind: 'manual',
    prefix: upload('architecture-diagrams'),
    expects: 'the current system architecture diagrams',
  },
  {
    id: 'data-flow-diagrams',
    section: 'documentation',
    title: 'Data flow diagrams current',
    kind: 'manual',
    prefix: upload('data-flow-diagrams'),
    expects: 'the current data flow diagrams',
  },
  {
    id: 'disaster-recovery-plan',
    section: 'documentation',
    title: 'Disaster recovery plan documented and tested',
    kind: 'manual',
    prefix: upload('disaster-recovery-plan'),
    expects: 'the disaster recovery plan (its tests are the "DR test results" item)',
  },
  {
    id: 'health-checks',
    section: 'technical-controls',
    title: 'All services have health checks',
    kind: 'manual',
    prefix: upload('health-checks'),
    expects: 'the liveness/readiness probe configuration of every service',
  },
  {
    id: 'audit-logging',
    section: 'technical-controls',
    title: 'Audit logging capturing all required events',
    kind: 'latest-verdict',
    testTypes: ['log-completeness'],
  },
  {
    id: 'secrets-rotation',
    section: 'technical-controls',
    title: 'Secrets rotation automated and verified',
    kind: 'latest-verdict',
    testTypes: ['secret-rotation'],
  },
  {
    id: 'network-policies',
    section: 'technical-controls',
    title: 'Network policies enforced',
    kind: 'manual',
    prefix: upload('network-policies'),
    expects: 'the enforced network policies (deny-by-default) and where they apply',
  },
  {
    id: 'pod-security',
    section: 'technical-controls',
    title: 'Pod security standards applied',
    kind: 'manual',
    prefix: upload('pod-security'),
    expects: 'the applied pod security standards',
  },
  {
    id: 'vulnerability-scans',
    section: 'technical-controls',
    title: 'Vulnerability scans passing',
    kind: 'every-period',
    testTypes: ['vulnerability-scan'],
    per: 'weekly',
    lookback: 'P28D',
  },
  {
    id: 'audit-log-retention',
    section: 'evidence-collection',
    title: 'Audit logs available (1 year)',
    kind: 'retention',
    testTypes: ['log-completeness'],
    atLeast: 'P365D',
  },
  {
    id: 'change-logs',
    section: 'evidence-collection',
    title: 'Change logs (Git history)',
    kind: 'manual',
    prefix: upload('change-logs'),
    expects: 'the Git history export of the period (e.g. `git log` of every deployed repository)',
  },
  {
    id: 'access-reviews',
    section: 'evidence-collection',
    title: 'Access reviews completed',
    kind: 'every-period',
    testTypes: ['access-review'],
    per: 'quarterly',
  },
  {
    id: 'penetration-test',
    section: 'evidence-collection',
    title: 'Penetration test report (annual)',
    kind: 'manual',
    prefix: 'attestations/penetration-test/{period}/',
    expects: 'the penetration test report',
  },
  {
    id: 'dr-tests',
    section: 'evidence-collection',
    title: 'DR test results (quarterly)',
    kind: 'every-period',
    testTypes: ['restore-verification', 'restore-test-history'],
    per: 'quarterly',
  },
  {
    id: 'security-training',
    section: 'evidence-collection',
    title: 'Security training completion records',
    kind: 'manual',
    prefix: upload('security-training'),
    expects: 'the security training completion records',
  },
];

export const readinessSettingsSchema = z
  .strictObject({
    /** `reference`: the reference Pre-Audit Checklist (below); `none`: only `items`. @default 'reference' */
    base: z.enum(['reference', 'none']).default('reference'),
    /** Owner of manual items that name none. Omitted: such items show as unassigned. */
    defaultOwner: slugSchema.optional(),
    /** Items to add; an id already in the base replaces that item. @default [] */
    items: z.array(readinessItemSchema).default([]),
  })
  .describe(
    'The pre-audit checklist that `soc2-evidence readiness` computes (default: the reference checklist).',
  );

export type ReadinessSettings = z.output<typeof readinessSettingsSchema>;

/** The effective checklist: the base items, each replaced by a configured item of the same id, then new ones. */
export function readinessItems(settings?: ReadinessSettings): ReadinessItem[] {
  const base = (settings?.base ?? 'reference') === 'reference' ? DEFAULT_READINESS_ITEMS : [];
  const items = new Map<string, ReadinessItem>(
    base.map((item) => [item.id, readinessItemSchema.parse(item)]),
  );
  for (const item of settings?.items ?? []) items.set(item.id, item);
  return [...items.values()];
}

interface IssueSink {
  addIssue(issue: { code: 'custom'; path: (string | number)[]; message: string }): void;
}

/** Configured items must name existing controls and owners (defaults select by test type). */
export function checkReadinessReferences(
  settings: ReadinessSettings | undefined,
  known: {
    readonly ownerIds: ReadonlySet<string>;
    readonly controls: readonly { id: string; test: { type: string } }[];
  },
  ctx: IssueSink,
): void {
  if (!settings) return;
  const controlIds = new Set(known.controls.map((c) => c.id));
  const types = new Map(known.controls.map((c) => [c.id, c.test.type]));
  if (settings.defaultOwner !== undefined && !known.ownerIds.has(settings.defaultOwner))
    ctx.addIssue({
      code: 'custom',
      path: ['readiness', 'defaultOwner'],
      message: `unknown owner "${settings.defaultOwner}"; expected one of ${[...known.ownerIds].join(', ')}`,
    });
  settings.items.forEach((item, index) => {
    item.controls?.forEach((controlId, controlIndex) => {
      if (!controlIds.has(controlId))
        ctx.addIssue({
          code: 'custom',
          path: ['readiness', 'items', index, 'controls', controlIndex],
          message: `unknown control "${controlId}"; expected one of ${[...controlIds].join(', ')}`,
        });
      else if (item.kind === 'retention' && types.get(controlId) !== 'log-completeness')
        ctx.addIssue({
          code: 'custom',
          path: ['readiness', 'items', index, 'controls', controlIndex],
          message: `control "${controlId}" is a ${types.get(controlId)} test, which records no oldestEvent figure; expected a log-completeness control`,
        });
    });
    if (item.kind === 'retention')
      item.testTypes?.forEach((type, typeIndex) => {
        if (type !== 'log-completeness')
          ctx.addIssue({
            code: 'custom',
            path: ['readiness', 'items', index, 'testTypes', typeIndex],
            message: `${type} records no oldestEvent figure; expected log-completeness`,
          });
      });
    if (item.kind === 'manual' && item.owner !== undefined && !known.ownerIds.has(item.owner))
      ctx.addIssue({
        code: 'custom',
        path: ['readiness', 'items', index, 'owner'],
        message: `unknown owner "${item.owner}"; expected one of ${[...known.ownerIds].join(', ')}`,
      });
  });
}
