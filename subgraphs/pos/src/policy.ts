import { allow, and, rule, type IRules } from 'graphql-shield';
import { canSellAt, canViewBranch, canViewReportsOf, dateInZone, isTenantWide, type Principal } from '@umi/kit';
import type { BranchRecord } from '@umi/db';
import { auditFields, branchArg, hasRole, isTenantUser, requireBranch as requireBranchOf, stockActor, type BranchRule } from '@umi/subgraph';
import type { StockActor } from '@umi/ledger';
import type { PosContext } from './context';

/**
 * Who may do what in the pos subgraph. The shield rules below and the services use the same
 * branch rules: the shield checks a branch named in the arguments, the services a branch known
 * only after reading a row (a sale's, a till's, a session's).
 */
export const branchRules = {
  /** Read a branch's sales, tills and sessions: anyone who may see the branch. */
  view: canViewBranch,
  /** Sell there: ADMIN, OPERATIONS, or a CASHIER or PHARMACIST with the branch or canProcessSales for it. */
  sell: canSellAt,
  /** Read its reports: ADMIN, OPERATIONS, or canViewReports for it. */
  reports: canViewReportsOf,
  /** Manage its tills: ADMIN, OPERATIONS. */
  manage: (p: Principal) => isTenantWide(p),
} satisfies Record<string, BranchRule>;
export type BranchNeed = keyof typeof branchRules;

/**
 * Refunds: ADMIN any sale; the branch's PHARMACIST only on the day of the sale (the branch's local
 * date); nobody else.
 */
export function mayRefund(p: Principal, branch: BranchRecord, saleDate: Date, at: Date = new Date()): boolean {
  if (p.role === 'ADMIN') return true;
  return p.role === 'PHARMACIST' && p.branchIds.includes(branch.id) && dateInZone(branch.timezone, saleDate) === dateInZone(branch.timezone, at);
}

/**
 * Closing a till session: the user who opened it, or a manager (ADMIN, OPERATIONS); another cashier
 * may not close someone else's drawer.
 */
export function mayCloseSession(p: Principal, session: { openedBy: string }): boolean {
  return isTenantWide(p) || session.openedBy === p.userId;
}

/**
 * Blind cash-up: while a session is open, only managers (ADMIN, OPERATIONS) see what the drawer
 * should hold (expected cash, and the tender totals it is computed from); whoever counts the
 * drawer counts it blind. Once the session is closed, everyone who may see the branch sees it all.
 */
export function mayReadExpectedCash(p: Principal, report: { sessionOpen: boolean }): boolean {
  return !report.sessionOpen || isTenantWide(p);
}

const sellers = hasRole('ADMIN', 'OPERATIONS', 'PHARMACIST', 'CASHIER');
const blindWhileOpen = rule({ cache: 'no_cache' })(
  (report: { sessionOpen: boolean }, _args: unknown, ctx: PosContext) => ctx.scope !== null && mayReadExpectedCash(ctx.scope.principal, report),
);

/** Deny by default (the shield's fallback); types below guarded roots are `allow` on plain fields. */
export const permissions: IRules = {
  Query: {
    _service: allow,
    _entities: isTenantUser,
    sale: isTenantUser,
    sales: branchArg(branchRules.view),
    salesReport: branchArg(branchRules.reports),
    tills: branchArg(branchRules.view),
    tillSession: isTenantUser,
    fiscalBacklog: branchArg(branchRules.reports),
    fiscalSettings: hasRole('ADMIN'),
    productFiscalCodes: hasRole('ADMIN', 'OPERATIONS'),
    // ADMIN and OPERATIONS for the tenant; canViewReports for a named branch (checked in the service).
    mobileMoneyReconciliation: isTenantUser,
    mobileMoneySettings: hasRole('ADMIN'),
  },
  Mutation: {
    createSale: and(sellers, branchArg(branchRules.sell, 'input.branchId')),
    // Approving or declining a mobile-money request by hand is not a cashier's act: until the
    // provider's answer replaces it, only an ADMIN, with a reason (audited).
    confirmPayment: hasRole('ADMIN'),
    paySale: sellers,
    refundSale: hasRole('ADMIN', 'PHARMACIST'),
    createTill: hasRole('ADMIN', 'OPERATIONS'),
    openTill: sellers,
    closeTill: sellers,
    // Fiscal configuration decides what is reported to ZRA in the tenant's name: ADMIN only, audited.
    updateFiscalSettings: hasRole('ADMIN'),
    configureFiscalDevice: hasRole('ADMIN'),
    setProductFiscalCodes: hasRole('ADMIN'),
    retryFiscalDocument: hasRole('ADMIN'),
    // Providers' credentials: ADMIN only, audited; the secrets are never returned.
    configureMobileMoney: hasRole('ADMIN'),
  },
  Sale: allow,
  SaleItem: allow,
  TaxLine: allow,
  Payment: allow,
  PaymentAttempt: allow,
  MobileMoneyReconciliation: allow,
  MobileMoneyProviderTotals: allow,
  MobileMoneySettings: allow,
  Receipt: allow,
  FiscalReceipt: allow,
  FiscalBacklog: allow,
  FiscalDevice: allow,
  FiscalSettings: allow,
  VatCategoryMapping: allow,
  ProductFiscalCodes: allow,
  Refund: allow,
  RefundItem: allow,
  SaleEdge: allow,
  SaleConnection: allow,
  PageInfo: allow,
  SalesReport: allow,
  DailySales: allow,
  ProductSales: allow,
  Till: allow,
  TillSession: allow,
  ZReport: { '*': allow, expectedCash: blindWhileOpen, tenders: blindWhileOpen, paidOut: blindWhileOpen },
  TenderTotal: allow,
  Product: allow,
  Branch: allow,
  User: allow,
  Patient: { '*': allow, purchases: isTenantUser },
  _Service: allow,
};

/** The tenant's branch `branchId` if the caller may `need` there (NOT_FOUND, FORBIDDEN otherwise). */
export function requireBranch(ctx: PosContext, branchId: string, need: BranchNeed, field = 'branchId'): Promise<BranchRecord> {
  return requireBranchOf(ctx, branchId, branchRules[need], field);
}

/** The branch's calendar date at `at`. */
export function branchDate(branch: BranchRecord, at: Date = new Date()): string {
  return dateInZone(branch.timezone, at);
}

export const actorOf = (ctx: PosContext): StockActor => stockActor(ctx, 'pos');
export const auditOf = auditFields;
