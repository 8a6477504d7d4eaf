import { ref } from '@umi/subgraph';
import type { TillSessionResolvers } from '../generated/resolvers';
import { zReport } from '../services/tills';

export const TillSession: TillSessionResolvers = {
  status: (s) => s.status as 'OPEN' | 'CLOSED',
  till: async (s, _, ctx) => {
    const till = await ctx.loaders.tillById.load(s.tillId);
    if (!till) throw new Error(`till ${s.tillId} of session ${s.id} is missing`);
    return till;
  },
  openedBy: (s) => ref('User', s.openedBy),
  closedBy: (s) => (s.closedBy ? ref('User', s.closedBy) : null),
  zReport: (s, _, ctx) => zReport(ctx, s),
};
