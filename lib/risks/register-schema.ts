import { z } from 'zod';

/** Placeholder until the risk register lands (issue 5); kept strict so nothing is silently accepted. */
export const riskRegisterSchema = z.strictObject({});
