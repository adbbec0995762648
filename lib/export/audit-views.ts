import { DateTime } from 'luxon';
import { type AuditVerdict, type AuditWindow, auditVerdictFromManifest } from '../audit/audit-verdicts.ts';
import { type CriteriaCoverage, criteriaCoverage } from '../audit/criteria-coverage.ts';
import { computeReadiness, type Readiness } from '../audit/readiness.ts';
import type { DateRange } from '../evidence/coverage.ts';
import { evaluateRegister, type LatestVerdict, localDate } from '../risks/evaluate-register.ts';
import { buildHeatMaps, type HeatMaps } from '../risks/heat-map.ts';
import { buildPoam, type PoamDocument, type PoamSignOff } from '../risks/oscal-poam.ts';
import { SIGN_OFF_KIND, signOffFromEvidence } from '../risks/sign-off.ts';
import type { ReportSource } from './export-model.ts';
import type { ReportInputs } from './report-inputs.ts';
import { isSignOffRun, type SignOffEvidence, type SignOffView, signOffView } from './sign-offs.ts';

/** What the reports are computed from besides the manifests: the config part and the sealed sign-offs. */
export interface ReportExtras {
  /** Absent when the export was taken without a config: no coverage, readiness, heat map or POA&M. */
  readonly inputs?: ReportInputs;
  /** Every sign-off run of the range, in key order. */
  readonly signOffs: readonly SignOffEvidence[];
}

/** The views computed from the config and the archive's own manifests. */
export interface AuditViews {
  readonly window: AuditWindow;
  readonly coverage: CriteriaCoverage;
  readonly readiness: Readiness;
  readonly heatMaps?: HeatMaps;
  readonly poam?: PoamDocument;
}

export interface ComputedViews {
  readonly signOffs: readonly SignOffView[];
  readonly audit?: AuditViews;
}

/**
 * The window the export's coverage and readiness are computed for: periods whose last day is in the
 * range and that had ended by the export (or by the end of the range's last day, if earlier), so a
 * period after `to` is never owed by an archive that cannot hold it.
 */
export function exportWindow(range: DateRange, exportedAt: string, timeZone: string): AuditWindow {
  const exported = new Date(exportedAt);
  const endOfRange = range.to
    ? DateTime.fromISO(range.to, { zone: timeZone }).plus({ days: 1 }).startOf('day').toJSDate()
    : exported;
  const asOf = new Date(Math.min(exported.getTime(), endOfRange.getTime()));
  const from =
    range.from ?? DateTime.fromJSDate(asOf, { zone: timeZone }).minus({ years: 1 }).toISODate() ?? '';
  return { asOf, from, timeZone };
}

/** The latest run of every control-period, as the audit views read verdicts; sign-offs are not tests. */
async function verdictsOf(source: ReportSource): Promise<AuditVerdict[]> {
  const verdicts: AuditVerdict[] = [];
  for await (const row of source.rows()) {
    for (const cell of row.cells) {
      const latest = cell.latest;
      if (!latest || isSignOffRun(latest.manifest)) continue;
      verdicts.push(auditVerdictFromManifest(latest.manifestKey, latest.manifest));
    }
  }
  return verdicts;
}

/** Each control's newest verdict (latest period end), for the register's failing-control rule. */
function latestPerControl(verdicts: readonly AuditVerdict[]): LatestVerdict[] {
  const newest = new Map<string, AuditVerdict>();
  for (const v of verdicts) {
    const seen = newest.get(v.controlId);
    if (!seen || v.periodEnd > seen.periodEnd) newest.set(v.controlId, v);
  }
  return [...newest.values()]
    .sort((a, b) => (a.controlId < b.controlId ? -1 : a.controlId > b.controlId ? 1 : 0))
    .map((v) => ({
      controlId: v.controlId,
      cadence: v.cadence,
      periodKey: v.periodKey,
      verdict: v.verdict,
      reasons: v.reasons,
      periodEnd: v.periodEnd,
    }));
}

/** The risk register's sign-offs among the sealed ones (hash-checked), oldest first. */
function registerSignOffs(
  signOffs: readonly SignOffEvidence[],
  views: readonly SignOffView[],
): PoamSignOff[] {
  return signOffs
    .flatMap((evidence, index): PoamSignOff[] => {
      if (!views[index]?.documentVerified) return [];
      let record: ReturnType<typeof signOffFromEvidence>;
      try {
        record = signOffFromEvidence(JSON.parse(evidence.document));
      } catch {
        return []; // a sealed document that is not JSON is shown, unread, in the sign-offs view
      }
      return record?.kind === SIGN_OFF_KIND ? [{ record, evidenceKey: evidence.evidenceKey }] : [];
    })
    .sort((a, b) =>
      a.record.signedAt < b.record.signedAt ? -1 : a.record.signedAt > b.record.signedAt ? 1 : 0,
    );
}

/**
 * Computes every derived view once (one pass over the rows): the sign-offs, and with a config the
 * criteria coverage, readiness, heat maps and POA&M. Pure in its inputs, so `verify` recomputes the
 * same bytes from the archive alone.
 */
export async function computeViews(source: ReportSource, extras: ReportExtras): Promise<ComputedViews> {
  const signOffs = extras.signOffs.map((evidence) => signOffView(evidence));
  const inputs = extras.inputs;
  if (!inputs) return { signOffs };
  const window = exportWindow(source.range, source.exportedAt, inputs.timeZone);
  const verdicts = await verdictsOf(source);
  const coverage = criteriaCoverage({ config: inputs, window, verdicts });
  const readiness = computeReadiness({ config: inputs, window, verdicts });
  const register = inputs.riskRegister;
  if (!register) return { signOffs, audit: { window, coverage, readiness } };
  const reviewed = registerSignOffs(extras.signOffs, signOffs);
  const evaluation = evaluateRegister(register, {
    asOf: new Date(source.exportedAt),
    timeZone: inputs.timeZone,
    latestVerdicts: latestPerControl(verdicts),
    signOffs: reviewed.map(({ record }) => ({
      date: record.date ?? localDate(new Date(record.signedAt), inputs.timeZone),
      risks: record.risks,
    })),
  });
  const poam = buildPoam(register, evaluation.findings, {
    generatedAt: new Date(source.exportedAt),
    timeZone: inputs.timeZone,
    owners: inputs.owners,
    signOffs: reviewed,
  });
  return {
    signOffs,
    audit: { window, coverage, readiness, heatMaps: buildHeatMaps(register), poam },
  };
}
