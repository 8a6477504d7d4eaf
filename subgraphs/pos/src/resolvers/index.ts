import { scalarResolvers } from '@umi/kit';
import { Query } from './Query';
import { Sale } from './Sale';

export const resolvers = { ...scalarResolvers, Query, Sale };
