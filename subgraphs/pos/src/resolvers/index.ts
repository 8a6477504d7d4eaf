import { scalarResolvers } from '@umi/kit';
import type { Resolvers } from '../generated/resolvers';
import { Mutation } from './Mutation';
import { Patient } from './Patient';
import { Payment, PaymentAttempt } from './Payment';
import { Query } from './Query';
import { Refund, RefundItem } from './Refund';
import { Sale } from './Sale';
import { SaleItem } from './SaleItem';
import { Till } from './Till';
import { TillSession } from './TillSession';

/** The pos subgraph's resolvers, checked against its SDL by the generated `Resolvers` type. */
export const resolvers: Resolvers = { ...scalarResolvers, Query, Mutation, Sale, SaleItem, Refund, RefundItem, Patient, Till, TillSession, Payment, PaymentAttempt };
