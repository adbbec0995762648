import type * as z from 'zod';
import type { Period } from '../shared/period.ts';
import type { ControlDefinition } from './control-definition.ts';
import type { ControlNeeds } from './control-needs.ts';
import type { ControlOutcome, EvidenceLog } from './outcome.ts';
import type { PopulationDeclaration, PopulationSink } from './population.ts';
import type { ControlPorts } from './ports.ts';

export interface ControlContext {
  readonly control: ControlDefinition;
  readonly period: Period;
  /** The instant the run is "as of"; checks such as "no events in the future" compare against it. */
  readonly asOf: Date;
  /** When the check runs (the clock); "in the future" and "retained for" are measured from here. */
  readonly now: Date;
  readonly ports: ControlPorts;
  readonly evidence: EvidenceLog;
  /**
   * Where the run writes the populations its test declares (the run's evidence folder). Absent
   * where nothing records evidence (unit tests of the verdict logic): tests then write none.
   */
  readonly populations?: PopulationSink;
}

/**
 * One kind of control test. Adding a kind means adding one module that exports one of these and
 * listing it in `registry.ts`; its parameters join the config schema from there, and its declared
 * needs drive config validation and the deployed IAM grants.
 */
export interface ControlTest<Params extends { readonly type: string }> {
  readonly type: Params['type'];
  readonly description: string;
  readonly paramsSchema: z.ZodType<Params>;
  /**
   * The targets, secrets, IAM users, S3 locations and resource-less AWS APIs a run with these
   * (validated) params touches, each with the config field it came from. Config validation checks
   * the targets exist; the CDK stack grants exactly these reads. Pure: no I/O, no clock.
   */
  needs(params: Params): ControlNeeds;
  /**
   * The named populations a run may write (JSON Lines beside its evidence, listed with their
   * provenance in the signed manifest). Every control also has `runs`, derived from its chain.
   */
  readonly populations?: readonly PopulationDeclaration[];
  /** Throwing is allowed: the runner turns any exception into an `error` verdict naming the cause. */
  run(params: Params, context: ControlContext): Promise<ControlOutcome>;
}
