import * as z from 'zod';
import { accessReview, accessReviewParamsSchema } from './access-review.ts';
import type { ControlNeeds } from './control-needs.ts';
import type { ControlContext, ControlTest } from './control-test.ts';
import { encryptionConfig, encryptionConfigParamsSchema } from './encryption-config.ts';
import { logCompleteness, logCompletenessParamsSchema } from './log-completeness.ts';
import { manualAttestation, manualAttestationParamsSchema } from './manual-attestation.ts';
import type { ControlOutcome } from './outcome.ts';
import { checkDeclarations, type PopulationDeclaration } from './population.ts';
import { restoreTestHistory, restoreTestHistoryParamsSchema } from './restore-test-history.ts';
import { restoreVerification, restoreVerificationParamsSchema } from './restore-verification.ts';
import { scheduleHealth, scheduleHealthParamsSchema } from './schedule-health.ts';
import { secretRotation, secretRotationParamsSchema } from './secret-rotation.ts';
import { vulnerabilityScan, vulnerabilityScanParamsSchema } from './vulnerability-scan.ts';

/**
 * Every control test type. To add one: write its module (params schema, needs, run) and list it in both
 * places below; the config schema and the runner pick it up from here.
 */
export const controlTestParamsSchema = z.discriminatedUnion('type', [
  logCompletenessParamsSchema,
  secretRotationParamsSchema,
  vulnerabilityScanParamsSchema,
  accessReviewParamsSchema,
  manualAttestationParamsSchema,
  scheduleHealthParamsSchema,
  restoreVerificationParamsSchema,
  restoreTestHistoryParamsSchema,
  encryptionConfigParamsSchema,
]);
export type ControlTestParams = z.output<typeof controlTestParamsSchema>;
export type ControlTestType = ControlTestParams['type'];

type ControlTestsByType = { readonly [P in ControlTestParams as P['type']]: ControlTest<P> };

const CONTROL_TESTS: ControlTestsByType = {
  'log-completeness': logCompleteness,
  'secret-rotation': secretRotation,
  'vulnerability-scan': vulnerabilityScan,
  'access-review': accessReview,
  'manual-attestation': manualAttestation,
  'schedule-health': scheduleHealth,
  'restore-verification': restoreVerification,
  'restore-test-history': restoreTestHistory,
  'encryption-config': encryptionConfig,
};

export const CONTROL_TEST_TYPES = Object.keys(CONTROL_TESTS) as ControlTestType[];

export function describeControlTest(type: ControlTestType): string {
  return CONTROL_TESTS[type].description;
}

/** What a configured test reads (targets, secrets, IAM users, S3 locations, AWS APIs), from its own declaration. */
export function controlNeeds(params: ControlTestParams): ControlNeeds {
  const test = CONTROL_TESTS[params.type] as ControlTest<typeof params>;
  return test.needs(params);
}

/** The populations a test type declares (besides `runs`, which every control has). */
export function populationsOf(type: ControlTestType): readonly PopulationDeclaration[] {
  return checkDeclarations(type, CONTROL_TESTS[type].populations ?? []);
}

/** Runs the test registered for `params.type`; the lookup is keyed by the same discriminant. */
export function runControlTest(params: ControlTestParams, context: ControlContext): Promise<ControlOutcome> {
  const test = CONTROL_TESTS[params.type] as ControlTest<typeof params>;
  return test.run(params, context);
}
