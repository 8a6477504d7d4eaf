import { scalarResolvers } from '@umi/kit';
import { Query } from './Query';
import { Mutation } from './Mutation';
import { Tenant } from './Tenant';
import { Branch } from './Branch';
import { User } from './User';
import { AuditLog } from './AuditLog';

export const resolvers = { ...scalarResolvers, Query, Mutation, Tenant, Branch, User, AuditLog };
