import type { Cadence } from '../shared/period.ts';

/**
 * The parts of a configured control that control tests read. The config's `ControlConfig` satisfies
 * it; declaring it here keeps controls/ free of an import from config/ (which imports the registry).
 */
export interface ControlDefinition {
  readonly id: string;
  readonly title: string;
  readonly cadence: Cadence;
  readonly owner: string;
  readonly criteria: readonly string[];
  /** First day the control is in force (ISO date). */
  readonly addedOn?: string | undefined;
  /** `required`: each period needs a review sign-off (see review-schedule.ts). */
  readonly review?: 'required' | undefined;
  /** How long after a period closes its review is due (ISO-8601). @default 'P14D' */
  readonly reviewWithin?: string | undefined;
}
