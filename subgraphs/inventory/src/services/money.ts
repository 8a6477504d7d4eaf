import { z } from 'zod';

/** Money in ZMW as a decimal string with at most two decimals (ngwee), never negative. */
export const decimalSchema = z
  .string()
  .trim()
  .regex(/^\d{1,12}(\.\d{1,2})?$/, 'must be an amount such as "12.50" (at most two decimals, not negative)');
