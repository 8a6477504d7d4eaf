import { scalarResolvers } from '@umi/kit';
import type { Resolvers } from '../generated/resolvers';
import { AuditLog } from './AuditLog';
import { Branch } from './Branch';
import { Mutation } from './Mutation';
import { Query } from './Query';
import { Tenant } from './Tenant';
import { User } from './User';

/** The tenant subgraph's resolvers, checked against its SDL by the generated `Resolvers` type. */
export const resolvers: Resolvers = { ...scalarResolvers, Query, Mutation, Tenant, Branch, User, AuditLog };
