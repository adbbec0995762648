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
}
