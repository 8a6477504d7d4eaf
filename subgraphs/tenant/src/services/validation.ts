import { z } from 'zod';

export const emailSchema = z.string().trim().toLowerCase().email().max(255);
/** Length over composition rules (NIST SP 800-63B); the upper bound caps hashing cost. */
export const passwordSchema = z.string().min(12, 'must be at least 12 characters').max(256);
export const nameSchema = z.string().trim().min(1).max(100);
