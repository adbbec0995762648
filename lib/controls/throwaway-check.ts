import { z } from 'zod';
import { slugSchema } from '../shared/identifiers.ts';
import { needs, s3ReadNeed, targetNeed } from './control-needs.ts';
import type { ControlTest } from './control-test.ts';
import { outcome } from './outcome.ts';

export const throwawayCheckParamsSchema = z.strictObject({
  type: z.literal('throwaway-check'),
  /** A database with a brand-new parameter name, to show no regex has to learn it. */
  ledgerDatabase: slugSchema,
  /** Where the ledger exports land. */
  exportPrefix: z.string().min(1),
});
export type ThrowawayCheckParams = z.output<typeof throwawayCheckParamsSchema>;

export const throwawayCheck: ControlTest<ThrowawayCheckParams> = {
  type: 'throwaway-check',
  description: 'Throwaway: shows what adding a test type touches.',
  paramsSchema: throwawayCheckParamsSchema,
  needs: (params) =>
    needs({
      targets: [targetNeed(params.ledgerDatabase, 'ledgerDatabase')],
      s3Reads: [s3ReadNeed(undefined, params.exportPrefix, 'exportPrefix')],
    }),
  run: async () => outcome({ figures: {}, details: null }),
};
