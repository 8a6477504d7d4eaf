import type { PatientResolvers } from '../generated/resolvers';
import { purchasesOf } from '../services/sales';

export const Patient: PatientResolvers = {
  __resolveReference: (r) => r,
  purchases: async (p, a, ctx) => (await purchasesOf(ctx, [p.id], Math.min(Math.max(a.first ?? 50, 1), 100)))[0] ?? [],
};
