import { scalarResolvers } from '@umi/kit';
import { Query } from './Query';
import { Product } from './Product';

export const resolvers = { ...scalarResolvers, Query, Product };
