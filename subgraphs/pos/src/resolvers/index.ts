import { scalarResolvers } from '@umi/kit';
import { Query } from './Query';
import { Mutation } from './Mutation';
import { Patient, RefundType, Sale, SaleItem, Till, TillSession } from './types';

export const resolvers = { ...scalarResolvers, Query, Mutation, Sale, SaleItem, Refund: RefundType, Patient, Till, TillSession };
