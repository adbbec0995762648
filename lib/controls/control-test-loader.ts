import type { ControlContext, ControlTest } from './control-test.ts';
import type { ControlOutcome } from './outcome.ts';
import { checkDeclarations, type PopulationDeclaration } from './population.ts';
import type { ControlTestParams } from './registry.ts';

type ControlTestLoaders = {
  readonly [P in ControlTestParams as P['type']]: () => Promise<ControlTest<P>>;
};

/**
 * Each test type's module, imported on first use. The runners (worker, CLI, demo) run one control
 * at a time, so they load a type's module, and build its zod params schema, only when a control of
 * that type runs: in a Lambda bundle every entry here is its own chunk, which a cold start neither
 * reads nor evaluates (`registry.ts` imports every type eagerly, for the config schema and the
 * CLI). The mapped type makes the compiler require one entry per registered type, of that type.
 */
const LOADERS: ControlTestLoaders = {
  'log-completeness': async () => (await import('./log-completeness.ts')).logCompleteness,
  'secret-rotation': async () => (await import('./secret-rotation.ts')).secretRotation,
  'vulnerability-scan': async () => (await import('./vulnerability-scan.ts')).vulnerabilityScan,
  'access-review': async () => (await import('./access-review.ts')).accessReview,
  'manual-attestation': async () => (await import('./manual-attestation.ts')).manualAttestation,
  'schedule-health': async () => (await import('./schedule-health.ts')).scheduleHealth,
  'restore-verification': async () => (await import('./restore-verification.ts')).restoreVerification,
  'restore-test-history': async () => (await import('./restore-test-history.ts')).restoreTestHistory,
  'encryption-config': async () => (await import('./encryption-config.ts')).encryptionConfig,
};

/** A configured test, ready to run: the populations its type declares and its check. */
export interface LoadedControlTest {
  /** The populations the type declares (besides `runs`), checked as the registry's `populationsOf` does. */
  readonly populations: readonly PopulationDeclaration[];
  run(context: ControlContext): Promise<ControlOutcome>;
}

/** Loads the module registered for `params.type`; the lookup is keyed by the same discriminant. */
export async function loadControlTest(params: ControlTestParams): Promise<LoadedControlTest> {
  const test = (await LOADERS[params.type]()) as ControlTest<typeof params>;
  return {
    populations: checkDeclarations(params.type, test.populations ?? []),
    run: (context) => test.run(params, context),
  };
}
