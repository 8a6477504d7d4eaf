import { z } from 'zod';

export const ROLES = ['SUPER_ADMIN', 'ADMIN', 'OPERATIONS', 'PHARMACIST', 'CASHIER'] as const;
export type Role = (typeof ROLES)[number];

export const permissionsSchema = z.object({
  canViewAllBranches: z.boolean().default(false),
  canManageAllBranches: z.boolean().default(false),
  canTransferStock: z.boolean().default(false),
  canViewReports: z.array(z.string().uuid()).default([]),
  canProcessSales: z.array(z.string().uuid()).default([]),
});
/** The design document's branch permission matrix. */
export type Permissions = z.infer<typeof permissionsSchema>;

export const principalSchema = z.object({
  userId: z.string().uuid(),
  email: z.string(),
  role: z.enum(ROLES),
  tenantId: z.string().uuid().nullable(),
  tenantSubdomain: z.string().nullable(),
  branchIds: z.array(z.string().uuid()),
  permissions: permissionsSchema,
  /**
   * Set for an API client (OAuth2 client credentials; userId is then the client's id): what it may
   * do, e.g. catalogue:read. A user has no scopes: their role decides.
   */
  scopes: z.array(z.string()).optional(),
});
/** Who is calling, as established by a verified access token. */
export type Principal = z.infer<typeof principalSchema>;

/** Roles that act on every branch of their tenant. */
export function isTenantWide(p: Principal): boolean {
  return p.role === 'ADMIN' || p.role === 'OPERATIONS';
}

/**
 * May `p` see data of `branchId`? Selling or reporting at a branch implies seeing it (a cashier
 * with canProcessSales there scans its products and prices). The branch's tenant is checked by the
 * caller's query.
 */
export function canViewBranch(p: Principal, branchId: string): boolean {
  if (p.tenantId === null) return false;
  return (
    isTenantWide(p) ||
    p.permissions.canViewAllBranches ||
    p.permissions.canManageAllBranches ||
    p.branchIds.includes(branchId) ||
    p.permissions.canProcessSales.includes(branchId) ||
    p.permissions.canViewReports.includes(branchId)
  );
}

/** May `p` change data of `branchId` (stock, settings)? */
export function canManageBranch(p: Principal, branchId: string): boolean {
  if (p.tenantId === null) return false;
  return isTenantWide(p) || p.permissions.canManageAllBranches || (p.role === 'PHARMACIST' && p.branchIds.includes(branchId));
}

/** Branch ids `p` may see among `all` (a tenant's branches). */
export function visibleBranchIds(p: Principal, all: readonly string[]): string[] {
  return all.filter((id) => canViewBranch(p, id));
}

/** May `p` sell at `branchId`? Branch-scoped sellers need the branch or canProcessSales for it. */
export function canSellAt(p: Principal, branchId: string): boolean {
  if (p.tenantId === null) return false;
  if (isTenantWide(p)) return true;
  if (p.role !== 'CASHIER' && p.role !== 'PHARMACIST') return false;
  return p.branchIds.includes(branchId) || p.permissions.canProcessSales.includes(branchId);
}

/** May `p` read the sales reports of `branchId`? */
export function canViewReportsOf(p: Principal, branchId: string): boolean {
  if (p.tenantId === null) return false;
  return isTenantWide(p) || p.permissions.canViewReports.includes(branchId);
}
