import { allow, and, rule, type IRules } from 'graphql-shield';
import { canSellAt, canViewBranch, canViewReportsOf, isTenantWide } from '@umi/kit';
import type { PosContext } from './context';

const isTenantUser = rule({ cache: 'contextual' })((_p, _a, ctx: PosContext) => ctx.tenant !== null);
const isManager = rule({ cache: 'contextual' })((_p, _a, ctx: PosContext) => ctx.tenant !== null && !!ctx.principal && isTenantWide(ctx.principal));
/** Roles that take money at all; the branch is checked against the sale's branch by the services. */
const isSeller = rule({ cache: 'contextual' })(
  (_p, _a, ctx: PosContext) => ctx.tenant !== null && !!ctx.principal && ['ADMIN', 'OPERATIONS', 'PHARMACIST', 'CASHIER'].includes(ctx.principal.role),
);
const mayRefund = rule({ cache: 'contextual' })(
  (_p, _a, ctx: PosContext) => ctx.tenant !== null && (ctx.principal?.role === 'ADMIN' || ctx.principal?.role === 'PHARMACIST'),
);
const seesBranchArg = rule({ cache: 'strict' })(
  (_p, args: { branchId?: string }, ctx: PosContext) => !!ctx.principal && typeof args.branchId === 'string' && canViewBranch(ctx.principal, args.branchId.toLowerCase()),
);
const sellsAtInputBranch = rule({ cache: 'strict' })(
  (_p, args: { input?: { branchId?: string } }, ctx: PosContext) =>
    !!ctx.principal && typeof args.input?.branchId === 'string' && canSellAt(ctx.principal, args.input.branchId.toLowerCase()),
);
const readsReportsOfBranchArg = rule({ cache: 'strict' })(
  (_p, args: { branchId?: string }, ctx: PosContext) => !!ctx.principal && typeof args.branchId === 'string' && canViewReportsOf(ctx.principal, args.branchId.toLowerCase()),
);

/**
 * Deny by default (the shield's fallback). Rules on a branch named in the arguments live here; the
 * branch of a row (a sale's, a till's) is checked by the services with the same predicates.
 * Types below guarded roots are `allow` on their plain fields (see withoutAllowedFields).
 */
export const permissions: IRules = {
  Query: {
    _service: allow,
    _entities: isTenantUser,
    sale: isTenantUser,
    sales: and(isTenantUser, seesBranchArg),
    salesReport: and(isTenantUser, readsReportsOfBranchArg),
    tills: and(isTenantUser, seesBranchArg),
    tillSession: isTenantUser,
  },
  Mutation: {
    createSale: and(isSeller, sellsAtInputBranch),
    confirmPayment: isSeller,
    refundSale: mayRefund,
    createTill: isManager,
    openTill: isSeller,
    closeTill: isSeller,
  },
  Sale: allow,
  SaleItem: allow,
  TaxLine: allow,
  Payment: allow,
  Receipt: allow,
  Refund: allow,
  SaleEdge: allow,
  SaleConnection: allow,
  PageInfo: allow,
  SalesReport: allow,
  DailySales: allow,
  ProductSales: allow,
  Till: allow,
  TillSession: allow,
  ZReport: allow,
  TenderTotal: allow,
  Product: allow,
  Branch: allow,
  User: allow,
  Patient: { '*': allow, purchases: isTenantUser },
  _Service: allow,
};
