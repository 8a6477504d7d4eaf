import { allow, and, or, rule, type IRules } from 'graphql-shield';
import type { TenantContext } from './context';

const isAuthenticated = rule({ cache: 'contextual' })((_p, _a, ctx: TenantContext) => ctx.principal !== null);
const isSuperAdmin = rule({ cache: 'contextual' })((_p, _a, ctx: TenantContext) => ctx.principal?.role === 'SUPER_ADMIN');
const isTenantUser = rule({ cache: 'contextual' })((_p, _a, ctx: TenantContext) => ctx.tenant !== null);
const isAdmin = rule({ cache: 'contextual' })((_p, _a, ctx: TenantContext) => ctx.tenant !== null && ctx.principal?.role === 'ADMIN');
const isOperations = rule({ cache: 'contextual' })((_p, _a, ctx: TenantContext) => ctx.tenant !== null && ctx.principal?.role === 'OPERATIONS');

/**
 * Deny by default (the shield's fallback). `_entities` is allowed at the root because the gateway's
 * token was verified for every request; the entity types carry their own rules, since `_entities`
 * bypasses the Query rules.
 */
export const permissions: IRules = {
  Query: {
    _service: allow,
    _entities: isAuthenticated,
    me: isAuthenticated,
    tenants: isSuperAdmin,
    plans: isAuthenticated,
    branches: isTenantUser,
    branch: isTenantUser,
    users: or(isAdmin, isOperations),
    auditLogs: isAdmin,
    tenantSettings: isTenantUser,
  },
  Mutation: {
    login: allow,
    refreshToken: allow,
    logout: allow,
    createTenant: isSuperAdmin,
    createBranch: isAdmin,
    createUser: isAdmin,
    updateTenantSettings: isAdmin,
  },
  Tenant: or(isSuperAdmin, isTenantUser),
  Branch: and(isAuthenticated, or(isSuperAdmin, isTenantUser)),
  User: isAuthenticated,
  BranchPermissions: isAuthenticated,
  Plan: isAuthenticated,
  AuthPayload: allow,
  TenantSettings: isTenantUser,
  AuditLog: isAdmin,
  AuditLogEdge: isAdmin,
  AuditLogConnection: isAdmin,
  PageInfo: isAuthenticated,
  _Service: allow,
};
