import * as z from 'zod';
import { DEFAULT_POPULATION_CAP } from '../controls/population.ts';
import { CADENCES, type Cadence } from '../shared/period.ts';

/**
 * How many items a sample takes. Two tables, both overridable in the config's `sampling`:
 *
 * - by population size, for populations of occurrences (leavers, rotations, restores, findings,
 *   events). Default: fewer than 5 items, all of them; 6-50, 5; 51-250, 10%; more than 250, 25.
 *   These are the figures an audit firm publishes for its SOC 2 testing, as quoted in issue #13.
 * - by frequency, for the `runs` population of a recurring (automated) control. Default: annual 1,
 *   quarterly 2, monthly 2, weekly 5, daily 25 (and 25-60 for controls that run several times a
 *   day; 25 here). This is the commonly used guidance for testing recurring controls (issue #13).
 *
 * Neither table is a standard: the auditor decides; the table used is written into `sample.json`.
 */
const sizeRowSchema = z
  .strictObject({
    /** The row applies to populations of at most this many items; omitted on the last row. */
    upTo: z.number().int().min(0).optional(),
    /** A fixed number of items, or `all`. */
    size: z.union([z.literal('all'), z.number().int().min(1)]).optional(),
    /** A share of the population, rounded up. */
    percent: z.number().gt(0).max(100).optional(),
  })
  .refine((row) => (row.size === undefined) !== (row.percent === undefined), {
    message: 'expected exactly one of size or percent',
  });
export type SizeRow = z.output<typeof sizeRowSchema>;

export const DEFAULT_POPULATION_SIZES: readonly SizeRow[] = [
  { upTo: 5, size: 'all' },
  { upTo: 50, size: 5 },
  { upTo: 250, percent: 10 },
  { size: 25 },
];

export const FREQUENCIES = [...CADENCES, 'several-a-day'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

export const DEFAULT_BY_FREQUENCY: Readonly<Record<Frequency, number>> = {
  annual: 1,
  quarterly: 2,
  monthly: 2,
  weekly: 5,
  daily: 25,
  'several-a-day': 25,
};

export const samplingSettingsSchema = z
  .strictObject({
    /** Sample size by population size, first row whose `upTo` holds the count. @default 5/all, 50/5, 250/10%, else 25 */
    populationSizes: z
      .array(sizeRowSchema)
      .min(1)
      .default([...DEFAULT_POPULATION_SIZES]),
    /** Sample size of a recurring control's runs, by its cadence. @default annual 1, quarterly 2, monthly 2, weekly 5, daily 25 */
    byFrequency: z
      .strictObject(
        Object.fromEntries(FREQUENCIES.map((f) => [f, z.number().int().min(1).optional()])) as Record<
          Frequency,
          z.ZodOptional<z.ZodNumber>
        >,
      )
      .default({}),
  })
  .superRefine((settings, ctx) => {
    const rows = settings.populationSizes;
    rows.forEach((row, index) => {
      const last = index === rows.length - 1;
      if (last && row.upTo !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['populationSizes', index, 'upTo'],
          message: 'expected the last row without upTo (it covers every larger population)',
        });
      if (!last && row.upTo === undefined)
        ctx.addIssue({ code: 'custom', path: ['populationSizes', index, 'upTo'], message: 'expected upTo' });
      const previous = rows[index - 1]?.upTo;
      if (row.upTo !== undefined && previous !== undefined && row.upTo <= previous)
        ctx.addIssue({
          code: 'custom',
          path: ['populationSizes', index, 'upTo'],
          message: `expected upTo above the previous row's ${previous}`,
        });
    });
  });
export type SamplingSettings = z.output<typeof samplingSettingsSchema>;

export const populationSettingsSchema = z.strictObject({
  /** Items written at most per population; a run that hits it says so in its manifest. @default 1000000 */
  cap: z.number().int().min(1).max(100_000_000).default(DEFAULT_POPULATION_CAP),
});

/** The table a sample used, as written into sample.json. */
export interface SampleSizeTable {
  readonly populationSizes: readonly SizeRow[];
  readonly byFrequency: Readonly<Record<Frequency, number>>;
}

export function sampleSizeTable(settings: SamplingSettings | undefined): SampleSizeTable {
  return {
    populationSizes: settings?.populationSizes ?? DEFAULT_POPULATION_SIZES,
    byFrequency: { ...DEFAULT_BY_FREQUENCY, ...definedOnly(settings?.byFrequency ?? {}) },
  };
}

function definedOnly(
  values: Partial<Record<Frequency, number | undefined>>,
): Partial<Record<Frequency, number>> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

export interface SampleSizeChoice {
  readonly size: number;
  /** Which rule gave it: `population-size row 2 (upTo 50: 5)`, `frequency monthly`, `--size`. */
  readonly rule: string;
}

/** The sample size for a population of `count` items: never more than the population. */
export function sampleSizeFor(
  count: number,
  table: SampleSizeTable,
  basis: { readonly kind: 'population' } | { readonly kind: 'frequency'; readonly cadence: Cadence },
): SampleSizeChoice {
  if (basis.kind === 'frequency') {
    const size = table.byFrequency[basis.cadence];
    return { size: Math.min(count, size), rule: `by frequency: ${basis.cadence} ${size}` };
  }
  const index = table.populationSizes.findIndex((row) => row.upTo === undefined || count <= row.upTo);
  const row = table.populationSizes[index] ?? { size: 'all' as const };
  const bound = row.upTo === undefined ? 'above' : `up to ${row.upTo}`;
  if (row.percent !== undefined) {
    const size = Math.min(count, Math.max(1, Math.ceil((count * row.percent) / 100)));
    return { size, rule: `by population size: ${bound}, ${row.percent}%` };
  }
  const size = row.size === 'all' || row.size === undefined ? count : Math.min(count, row.size);
  return { size, rule: `by population size: ${bound}, ${row.size ?? 'all'}` };
}
