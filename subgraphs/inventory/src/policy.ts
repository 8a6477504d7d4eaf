import { allow, and, type IRules } from 'graphql-shield';
import { canManageBranch, canViewBranch, dateInZone, isTenantWide, type Principal } from '@umi/kit';
import type { BranchRecord } from '@umi/db';
import type { StockActor } from '@umi/ledger';
import { auditFields, branchArg, hasRole, isTenantUser, requireBranch as requireBranchOf, stockActor, type BranchRule } from '@umi/subgraph';
import type { InventoryContext } from './context';

/**
 * Who may do what in the inventory subgraph. The shield rules below and the services use the same
 * branch rules: the shield checks a branch named in the arguments, the services a branch known
 * only after reading a row (a batch's, an order's, a low-stock event's).
 */
export const branchRules = {
  /** Read stock, prices and movements there: anyone who may see the branch. */
  view: canViewBranch,
  /** Receive goods, raise and receive purchase orders, hold batches, write off expired stock: ADMIN, OPERATIONS, canManageAllBranches, or the branch's PHARMACIST. */
  receive: canManageBranch,
  /** Correct quantities and set prices and reorder rules: ADMIN, OPERATIONS, canManageAllBranches. */
  manage: (p: Principal) => isTenantWide(p) || p.permissions.canManageAllBranches,
  /** Send stock from there to another branch: ADMIN, OPERATIONS, or canTransferStock with access to it. */
  transfer: (p: Principal, branchId: string) => isTenantWide(p) || (p.permissions.canTransferStock && canViewBranch(p, branchId)),
  /** Receive a transfer there: any branch of the tenant (only the source needs the sender's access). */
  transferTo: () => true,
  /**
   * Release returned stock from quarantine or write it off: a professional judgement of whether the
   * medicine is fit for sale, so the branch's PHARMACIST, or ADMIN.
   */
  quarantine: (p: Principal, branchId: string) => p.role === 'ADMIN' || (p.role === 'PHARMACIST' && p.branchIds.includes(branchId)),
} satisfies Record<string, BranchRule>;
export type BranchNeed = keyof typeof branchRules;

/** Catalogue owners: ADMIN and OPERATIONS. */
const catalogueManagers = hasRole('ADMIN', 'OPERATIONS');
/** Everyone but cashiers: cost prices, the ledger, suppliers, orders and stock changes. */
const stockStaff = hasRole('ADMIN', 'OPERATIONS', 'PHARMACIST');
const seesBranchArg = branchArg(branchRules.view);
const staffRead = and(stockStaff, seesBranchArg);

/**
 * Deny by default (the shield's fallback). The entity types carry their own rules, since
 * `_entities` bypasses the Query field rules. Every root field and `_entities` requires a tenant
 * user and the types below are reachable only under them: `allow` on their plain fields spares a
 * per-field wrapper; fields that need more than their root's rule keep their own.
 */
export const permissions: IRules = {
  Query: {
    _service: allow,
    _entities: isTenantUser,
    product: isTenantUser,
    productByBarcode: isTenantUser,
    products: isTenantUser,
    expiringBatches: staffRead,
    stockMovements: staffRead,
    stockTransfers: staffRead,
    suppliers: stockStaff,
    purchaseOrders: staffRead,
    purchaseOrder: stockStaff,
    lowStockEvent: isTenantUser,
  },
  Mutation: {
    createProduct: catalogueManagers,
    updateProduct: catalogueManagers,
    deactivateProduct: catalogueManagers,
    createSupplier: catalogueManagers,
    setBranchProductSettings: stockStaff,
    receiveStock: stockStaff,
    adjustStock: stockStaff,
    setBatchStatus: stockStaff,
    writeOffExpiredStock: stockStaff,
    releaseQuarantine: hasRole('ADMIN', 'PHARMACIST'),
    writeOffQuarantine: hasRole('ADMIN', 'PHARMACIST'),
    transferStock: stockStaff,
    createPurchaseOrder: stockStaff,
    sendPurchaseOrder: stockStaff,
    receivePurchaseOrder: stockStaff,
    cancelPurchaseOrder: stockStaff,
  },
  Product: { '*': allow, sellingPrice: seesBranchArg, stock: seesBranchArg, batches: seesBranchArg },
  Branch: { '*': allow, stock: isTenantUser },
  User: allow,
  StockLevel: allow,
  LowStockAlert: allow,
  InventoryBatch: { '*': allow, supplier: stockStaff, costPrice: stockStaff },
  ProductConnection: allow,
  ProductEdge: allow,
  PageInfo: allow,
  StockMovement: stockStaff,
  StockMovementEdge: stockStaff,
  StockMovementConnection: stockStaff,
  StockTransfer: stockStaff,
  StockTransferLine: stockStaff,
  Supplier: stockStaff,
  PurchaseOrder: stockStaff,
  PurchaseOrderItem: stockStaff,
  PurchaseOrderEdge: stockStaff,
  PurchaseOrderConnection: stockStaff,
  _Service: allow,
};

/** The tenant's branch `branchId` if the caller may `need` there (NOT_FOUND, FORBIDDEN otherwise). */
export function requireBranch(ctx: InventoryContext, branchId: string, need: BranchNeed, field = 'branchId'): Promise<BranchRecord> {
  return requireBranchOf(ctx, branchId, branchRules[need], field);
}

/** The branch's calendar date now: the day against which expiry is judged. */
export function branchToday(branch: Pick<BranchRecord, 'timezone'>): string {
  return dateInZone(branch.timezone);
}

export const actorOf = (ctx: InventoryContext): StockActor => stockActor(ctx, 'inventory');
export const auditOf = auditFields;
