import type * as z from 'zod';
import type { Period } from '../shared/period.ts';
import type { ControlDefinition } from './control-definition.ts';
import type { ControlOutcome, EvidenceLog } from './outcome.ts';
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
}

/**
 * One kind of control test. Adding a kind means adding one module that exports one of these and
 * listing it in `registry.ts`; its parameters join the config schema from there.
 */
export interface ControlTest<Params extends { readonly type: string }> {
  readonly type: Params['type'];
  readonly description: string;
  readonly paramsSchema: z.ZodType<Params>;
  /** Throwing is allowed: the runner turns any exception into an `error` verdict naming the cause. */
  run(params: Params, context: ControlContext): Promise<ControlOutcome>;
}
