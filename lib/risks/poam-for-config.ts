import type { Config } from '../config/schema.ts';
import type { LatestVerdict } from './evaluate-register.ts';
import { evaluateRegister } from './evaluate-register.ts';
import { buildPoam, type PoamDocument } from './oscal-poam.ts';

/**
 * The OSCAL POA&M for a configuration's risk register as of a date, ready to add to an evidence
 * archive as `oscal/poam.json`; undefined when the configuration has no register.
 */
export function poamForConfig(
  config: Config,
  asOf: Date,
  latestVerdicts: readonly LatestVerdict[] = [],
): PoamDocument | undefined {
  const register = config.riskRegister;
  if (!register) return undefined;
  const { findings } = evaluateRegister(register, { asOf, timeZone: config.timeZone, latestVerdicts });
  return buildPoam(register, findings, {
    generatedAt: asOf,
    timeZone: config.timeZone,
    owners: config.owners,
  });
}
