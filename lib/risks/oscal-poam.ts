import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import type { RiskFinding } from './evaluate-register.ts';
import type { RemediationItem, Risk, RiskRegister } from './register-schema.ts';
import { assetOf, classificationOf, residualScore, riskScore } from './register-schema.ts';
import type { SignOffRecord } from './sign-off.ts';

/** Namespace of this tool's OSCAL props and facets (a URN: no domain is implied). */
export const OSCAL_NS = 'urn:soc2-evidence:ns:oscal';
export const OSCAL_VERSION = '1.0.4';

/** Fixed namespace for name-based (v5) UUIDs, so a subject keeps its UUID across revisions. */
const UUID_NAMESPACE = '6f1c2b0e-8d7a-4c55-9a0e-5b3f1d2c7e41';

/** RFC 4122 version-5 UUID of `name` within `namespace`. */
export function uuidV5(name: string, namespace = UUID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface PoamOptions {
  /** `metadata.last-modified`; also the observations' collection time. */
  readonly generatedAt: Date;
  /** Zone in which dates (deadlines) end: a target date is due by the end of that day there. */
  readonly timeZone: string;
  /** Owners become OSCAL parties (`risk-owner` role). */
  readonly owners: readonly { readonly id: string; readonly name: string; readonly email?: string }[];
  /** Keeps UUIDs distinct per deployment; the same system gets the same UUIDs every export. @default 'default' */
  readonly systemName?: string;
  /** @default 'SOC 2 risk register: Plan of Action and Milestones' */
  readonly title?: string;
  /** `metadata.version`. @default the generation date */
  readonly version?: string;
  /**
   * Recorded sign-offs of the register, oldest first, each with the evidence document that seals it:
   * every risk on the POA&M gets one risk-log entry per sign-off that reviewed it. @default []
   */
  readonly signOffs?: readonly PoamSignOff[];
}

/** A register sign-off and where its signed evidence is. */
export interface PoamSignOff {
  readonly record: SignOffRecord;
  /** Relative path of the sealed evidence document, e.g. in an export. */
  readonly evidenceKey?: string;
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** The JSON object of an OSCAL 1.0.4 POA&M document (`{ "plan-of-action-and-milestones": ... }`). */
export type PoamDocument = { readonly 'plan-of-action-and-milestones': Readonly<Record<string, unknown>> };

type Prop = { name: string; value: string; ns: string };
const prop = (name: string, value: string | number): Prop => ({ name, value: String(value), ns: OSCAL_NS });

const RISK_STATUS: Record<Risk['status'], string> = {
  open: 'open',
  partial: 'remediating',
  accepted: 'deviation-approved',
  mitigated: 'open', // only exported when a finding reopens it (failing control, no written mitigation)
};

/** Rules that put a risk on the POA&M whatever its register status. */
const REOPENING_RULES = new Set<RiskFinding['rule']>([
  'missing-mitigation',
  'control-failing',
  'mitigation-overdue',
]);

function instant(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function endOfDay(date: string, timeZone: string): string {
  const end = DateTime.fromISO(date, { zone: timeZone }).set({
    hour: 23,
    minute: 59,
    second: 59,
    millisecond: 0,
  });
  return end.toISO({ suppressMilliseconds: true }) ?? `${date}T23:59:59Z`;
}

/**
 * Builds an OSCAL 1.0.4 Plan of Action and Milestones from the register: one POA&M item (with its
 * OSCAL risk) per risk that is open, partial or accepted or that a finding reopens (no written
 * mitigation, failing linked control, mitigation overdue), and per remediation item not done. Every
 * finding becomes an observation linked from its item. UUIDs are name-based, so re-exports keep them.
 *
 * OSCAL requires at least one POA&M item; a register with nothing open yields a single item saying so.
 */
export function buildPoam(
  register: RiskRegister,
  findings: readonly RiskFinding[],
  options: PoamOptions,
): PoamDocument {
  const system = options.systemName ?? 'default';
  const id = (kind: string, name: string) => uuidV5(`${system}/${kind}/${name}`);
  const generatedAt = instant(options.generatedAt);
  const date =
    DateTime.fromJSDate(options.generatedAt, { zone: options.timeZone }).toISODate() ??
    generatedAt.slice(0, 10);

  const parties = options.owners.map((owner) => ({
    uuid: id('party', owner.id),
    type: 'organization',
    name: owner.name,
    'short-name': owner.id,
    ...(owner.email ? { 'email-addresses': [owner.email] } : {}),
  }));
  const partyOf = (ownerId: string) => id('party', ownerId);
  const knownOwners = new Set(options.owners.map((o) => o.id));

  const observations = findings.map((finding) => ({
    uuid: id('observation', `${date}/${finding.key}`),
    title: `${finding.subjectId}: ${finding.rule}`,
    description: finding.message,
    props: [
      prop('finding-rule', finding.rule),
      prop('finding-category', finding.category),
      ...(finding.dueDate ? [prop('due-date', finding.dueDate)] : []),
      ...(finding.daysOverdue !== undefined ? [prop('days-overdue', finding.daysOverdue)] : []),
      ...(finding.controlId
        ? [prop('control-id', finding.controlId), prop('period', finding.periodKey ?? '')]
        : []),
    ].filter((p) => p.value.trim() !== ''),
    methods: ['EXAMINE'],
    types: ['finding'],
    collected: generatedAt,
  }));
  const observationsOf = (subjectId: string) =>
    findings
      .map((finding, index) => ({ finding, uuid: observations[index]?.uuid ?? '' }))
      .filter(({ finding }) => finding.subjectId === subjectId)
      .map(({ uuid }) => ({ 'observation-uuid': uuid }));
  const remarksOf = (subjectId: string) =>
    findings
      .filter((f) => f.subjectId === subjectId)
      .map((f) => f.message)
      .join('\n\n');

  const reviewerParty = (by: string) => id('party', `reviewer/${by}`);
  const reviewers = [...new Set((options.signOffs ?? []).map((s) => s.record.by))].sort();
  /** One entry per sign-off that froze this risk: who, when, in which role, the register hash, what changed. */
  const riskLog = (riskId: string) => {
    const entries = (options.signOffs ?? [])
      .filter(({ record }) => record.risks.some((r) => r.id === riskId))
      .map(({ record, evidenceKey }) => {
        const changes = record.changes.filter((c) => c.riskId === riskId);
        const what =
          changes.length === 0
            ? 'no change to this risk since the previous sign-off'
            : changes
                .map((c) =>
                  c.field === 'added' || c.field === 'removed'
                    ? `risk ${c.field}`
                    : `${c.field} ${formatValue(c.from)} -> ${formatValue(c.to)}`,
                )
                .join('; ');
        return {
          uuid: id('risk-log-entry', `${riskId}/${record.signedAt}/${record.registerSha256}`),
          title: `Reviewed by ${record.by} (${record.role})`,
          description: `Register sign-off by ${record.by}, ${record.role}, on ${record.date}: ${what}. Register SHA-256 ${record.registerSha256}.${record.note ? ` Note: ${record.note}` : ''}`,
          start: instant(new Date(record.signedAt)),
          props: [
            prop('reviewer', record.by),
            prop('reviewer-role', record.role),
            prop('register-sha256', record.registerSha256),
            prop('changes', changes.length),
            ...(evidenceKey ? [prop('evidence', evidenceKey)] : []),
          ].filter((p) => p.value.trim() !== ''),
          'logged-by': [{ 'party-uuid': reviewerParty(record.by), 'role-id': 'reviewer' }],
        };
      });
    return entries.length > 0 ? { 'risk-log': { entries } } : {};
  };

  const characterization = (ownerId: string, facets: [string, string | number][]) => ({
    origin: { actors: [{ type: 'party', 'actor-uuid': partyOf(ownerId), 'role-id': 'risk-owner' }] },
    facets: facets.map(([name, value]) => ({ name, system: OSCAL_NS, value: String(value) })),
  });

  const risks: Record<string, unknown>[] = [];
  const items: Record<string, unknown>[] = [];

  const includeRisk = (risk: Risk) =>
    risk.status !== 'mitigated' ||
    findings.some((f) => f.subjectId === risk.id && REOPENING_RULES.has(f.rule));
  for (const risk of register.risks.filter(includeRisk)) {
    const riskUuid = id('risk', risk.id);
    const related = observationsOf(risk.id);
    const score = riskScore(risk);
    risks.push({
      uuid: riskUuid,
      title: `${risk.id}: ${risk.title}`,
      description: `${risk.threat} threat to ${assetOf(register, risk)?.name ?? risk.asset} (${classificationOf(register, risk) ?? 'unclassified'}); likelihood ${risk.likelihood} x impact ${risk.impact} = ${score}.`,
      statement: risk.mitigation ? risk.mitigation : 'No written mitigation.',
      props: [
        prop('risk-id', risk.id),
        prop('register-status', risk.status),
        prop('owner', risk.owner),
        prop('last-reviewed', risk.lastReviewed),
        ...risk.criteria.map((c) => prop('soc2-criterion', c)),
        ...risk.linkedControls.map((c) => prop('linked-control', c)),
      ],
      status: RISK_STATUS[risk.status],
      'threat-ids': [{ system: `${OSCAL_NS}:stride`, id: risk.threat }],
      ...(knownOwners.has(risk.owner)
        ? {
            characterizations: [
              characterization(risk.owner, [
                ['likelihood', risk.likelihood],
                ['impact', risk.impact],
                ['score', score],
                ...(risk.residual
                  ? ([
                      ['residual-likelihood', risk.residual.likelihood],
                      ['residual-impact', risk.residual.impact],
                      ['residual-score', residualScore(risk)],
                    ] as [string, number][])
                  : []),
              ]),
            ],
          }
        : {}),
      ...(risk.plannedMitigationDate
        ? {
            deadline: endOfDay(risk.plannedMitigationDate, options.timeZone),
            remediations: [
              {
                uuid: id('response', risk.id),
                lifecycle: 'planned',
                title: `Complete the mitigation of ${risk.id}`,
                description: risk.notes ?? risk.mitigation ?? 'Mitigation planned.',
                props: [prop('planned-date', risk.plannedMitigationDate)],
              },
            ],
          }
        : {}),
      ...(related.length > 0 ? { 'related-observations': related } : {}),
      ...riskLog(risk.id),
    });
    const remarks = remarksOf(risk.id);
    items.push({
      uuid: id('poam-item', risk.id),
      title: `${risk.id}: ${risk.title}`,
      description: risk.mitigation
        ? `Risk scored ${score} (status ${risk.status}). Mitigation: ${risk.mitigation}`
        : `Risk scored ${score} (status ${risk.status}) with no written mitigation.`,
      props: [prop('subject-kind', 'risk'), prop('owner', risk.owner)],
      ...(related.length > 0 ? { 'related-observations': related } : {}),
      'related-risks': [{ 'risk-uuid': riskUuid }],
      ...(remarks ? { remarks } : {}),
    });
  }

  for (const item of register.remediations.filter((r: RemediationItem) => r.status !== 'done')) {
    const riskUuid = id('risk', item.id);
    const related = observationsOf(item.id);
    risks.push({
      uuid: riskUuid,
      title: `${item.id}: ${item.gap}`,
      description: `Gap: ${item.gap}.`,
      statement: `Remediation: ${item.remediation}.`,
      props: [
        prop('remediation-id', item.id),
        prop('register-status', item.status),
        prop('owner', item.owner),
        ...item.criteria.map((c) => prop('soc2-criterion', c)),
      ],
      status: item.status === 'in-progress' ? 'remediating' : 'open',
      deadline: endOfDay(item.targetDate, options.timeZone),
      remediations: [
        {
          uuid: id('response', item.id),
          lifecycle: 'planned',
          title: item.remediation,
          description: `${item.remediation} (target ${item.targetDate}, owner ${item.owner}).`,
          props: [prop('target-date', item.targetDate)],
        },
      ],
      ...(related.length > 0 ? { 'related-observations': related } : {}),
    });
    const remarks = remarksOf(item.id);
    items.push({
      uuid: id('poam-item', item.id),
      title: `${item.id}: ${item.gap}`,
      description: `${item.remediation}; target date ${item.targetDate}; status ${item.status}.`,
      props: [
        prop('subject-kind', 'remediation'),
        prop('owner', item.owner),
        prop('target-date', item.targetDate),
      ],
      ...(related.length > 0 ? { 'related-observations': related } : {}),
      'related-risks': [{ 'risk-uuid': riskUuid }],
      ...(remarks ? { remarks } : {}),
    });
  }

  // An asset with findings (STRIDE categories never assessed, sensitive data stored in the clear)
  // is an open item of its own: nothing else on the POA&M would carry those observations.
  for (const asset of register.assets) {
    const related = observationsOf(asset.id);
    if (related.length === 0) continue;
    const riskUuid = id('risk', `asset/${asset.id}`);
    risks.push({
      uuid: riskUuid,
      title: `${asset.id}: ${asset.name}`,
      description: `Asset ${asset.name} (${asset.classification}); access: ${asset.access}.`,
      statement: remarksOf(asset.id),
      props: [
        prop('asset-id', asset.id),
        prop('classification', asset.classification),
        prop('owner', asset.owner),
      ],
      status: 'open',
      'related-observations': related,
    });
    items.push({
      uuid: id('poam-item', `asset/${asset.id}`),
      title: `${asset.id}: ${asset.name}`,
      description: remarksOf(asset.id),
      props: [prop('subject-kind', 'asset'), prop('owner', asset.owner)],
      'related-observations': related,
      'related-risks': [{ 'risk-uuid': riskUuid }],
    });
  }

  if (items.length === 0) {
    items.push({
      uuid: id('poam-item', 'none'),
      title: 'No open risks or remediation items',
      description: `As of ${date} every risk in the register is mitigated and every remediation item is done.`,
    });
  }

  const ownersInUse = [
    ...new Set([...register.risks.map((r) => r.owner), ...register.remediations.map((r) => r.owner)]),
  ]
    .filter((owner) => knownOwners.has(owner))
    .sort();
  return {
    'plan-of-action-and-milestones': {
      uuid: id('poam', 'register'),
      metadata: {
        title: options.title ?? 'SOC 2 risk register: Plan of Action and Milestones',
        'last-modified': generatedAt,
        version: options.version ?? date,
        'oscal-version': OSCAL_VERSION,
        roles: [
          { id: 'risk-owner', title: 'Risk owner' },
          ...(reviewers.length > 0 ? [{ id: 'reviewer', title: 'Risk register reviewer (sign-off)' }] : []),
        ],
        ...(parties.length + reviewers.length > 0
          ? {
              parties: [
                ...parties,
                ...reviewers.map((by) => ({ uuid: reviewerParty(by), type: 'person', name: by })),
              ],
            }
          : {}),
        ...(ownersInUse.length > 0
          ? { 'responsible-parties': [{ 'role-id': 'risk-owner', 'party-uuids': ownersInUse.map(partyOf) }] }
          : {}),
      },
      ...(observations.length > 0 ? { observations } : {}),
      ...(risks.length > 0 ? { risks } : {}),
      'poam-items': items,
    },
  };
}
