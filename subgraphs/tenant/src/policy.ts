import { allow, or, type IRules } from 'graphql-shield';
import { canViewBranch, type Principal } from '@umi/kit';
import { auditFields, hasRole, isAuthenticated, isPlatformOperator, isTenantUser, type BranchRule } from '@umi/subgraph';

/**
 * Who may do what in the tenant subgraph. The shield rules below guard every field; the services
 * and resolvers use the same branch rule for branches known only after a read (`branch(id)`, a
 * referenced branch, the list of branches).
 */
export const branchRules = {
  /** See a branch: tenant-wide roles, canViewAllBranches, or the branch among one's own or permitted ones. */
  view: canViewBranch,
} satisfies Record<string, BranchRule>;

/** A branch another subgraph references: the platform operator sees any, a tenant user those it may view. */
export function maySeeBranch(p: Principal | null, branchId: string): boolean {
  return p !== null && (p.role === 'SUPER_ADMIN' || branchRules.view(p, branchId));
}

const isAdmin = hasRole('ADMIN');
const isTenantOrOperator = or(isPlatformOperator, isTenantUser);

/**
 * Deny by default (the shield's fallback). `_entities` is allowed to any signed-in caller because
 * the gateway's token was verified for every request; the entity types carry their own rules,
 * since `_entities` bypasses the Query rules. Sign-in mutations are open: they are rate-limited.
 */
export const permissions: IRules = {
  Query: {
    _service: allow,
    _entities: isAuthenticated,
    me: isAuthenticated,
    tenants: isPlatformOperator,
    plans: isAuthenticated,
    branches: isTenantUser,
    branch: isTenantUser,
    users: hasRole('ADMIN', 'OPERATIONS'),
    auditLogs: isAdmin,
    tenantSettings: isTenantUser,
    apiClients: isAdmin,
    jobQueues: isPlatformOperator,
  },
  Mutation: {
    login: allow,
    refreshToken: allow,
    logout: allow,
    createTenant: isPlatformOperator,
    createBranch: isAdmin,
    createUser: isAdmin,
    updateTenantSettings: isAdmin,
    createApiClient: isAdmin,
    revokeApiClient: isAdmin,
    // Open like login: the credentials are the check, and attempts spend the per-IP login bucket.
    issueClientToken: allow,
  },
  ApiClient: isAdmin,
  CreatedApiClient: isAdmin,
  ClientToken: allow,
  JobQueueStatus: isPlatformOperator,
  Tenant: isTenantOrOperator,
  Branch: isTenantOrOperator,
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

export const auditOf = auditFields;
