import { ref } from '@umi/subgraph';
import type { TillResolvers } from '../generated/resolvers';

export const Till: TillResolvers = {
  branch: (t) => ref('Branch', t.branchId),
  currentSession: (t, _, ctx) => ctx.loaders.openSessionByTill.load(t.id),
};
