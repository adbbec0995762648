import * as z from 'zod';
import { criteriaSettingsSchema } from '../audit/criteria-catalogue.ts';
import { readinessSettingsSchema } from '../audit/readiness-schema.ts';
import { type Config, controlSchema, ownerSchema } from '../config/schema.ts';
import { riskRegisterSchema } from '../risks/register-schema.ts';
import { isValidTimeZone } from '../shared/period.ts';

import { REPORT_INPUTS_FILE } from './export-info.ts';

export { REPORT_INPUTS_FILE };
export const REPORT_INPUTS_KIND = 'soc2-evidence/report-inputs';

/**
 * The part of the configuration the export's audit views are computed from: controls (with their
 * test parameters, so an auditor sees what each test checks), owners, the criteria catalogue and
 * readiness settings, and the risk register. Targets' connection sources and notification secrets
 * are left out. Parsed with the config's own schemas, so `verify` reads exactly what the exporter used.
 */
export const reportInputsSchema = z.strictObject({
  kind: z.literal(REPORT_INPUTS_KIND),
  schemaVersion: z.literal(1),
  timeZone: z.string().refine(isValidTimeZone, 'expected an IANA time zone'),
  owners: z.array(ownerSchema),
  controls: z.array(controlSchema),
  criteria: criteriaSettingsSchema.optional(),
  readiness: readinessSettingsSchema.optional(),
  riskRegister: riskRegisterSchema.optional(),
});

export type ReportInputs = z.output<typeof reportInputsSchema>;

/** What the export needs of a loaded config. */
export type ReportConfig = Pick<
  Config,
  'timeZone' | 'owners' | 'controls' | 'criteria' | 'readiness' | 'riskRegister'
>;

export class ReportInputsError extends Error {
  override name = 'ReportInputsError';
}

export function reportInputsFromConfig(config: ReportConfig): ReportInputs {
  return {
    kind: REPORT_INPUTS_KIND,
    schemaVersion: 1,
    timeZone: config.timeZone,
    owners: config.owners,
    controls: config.controls,
    ...(config.criteria ? { criteria: config.criteria } : {}),
    ...(config.readiness ? { readiness: config.readiness } : {}),
    ...(config.riskRegister ? { riskRegister: config.riskRegister } : {}),
  };
}

/** `report-inputs.json` as written: stable key order is the config's own, so the bytes are reproducible. */
export function serializeReportInputs(inputs: ReportInputs): string {
  return `${JSON.stringify(inputs, null, 2)}\n`;
}

/** Reads `report-inputs.json` back; the error names the first offending field. */
export function parseReportInputs(bytes: Uint8Array): ReportInputs {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new ReportInputsError(`${REPORT_INPUTS_FILE}: not JSON`, { cause: error });
  }
  const parsed = reportInputsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ReportInputsError(
      `${REPORT_INPUTS_FILE}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  return parsed.data;
}
