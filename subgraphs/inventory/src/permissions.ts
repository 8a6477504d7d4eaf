import { allow, and, rule, type IRules } from 'graphql-shield';
import { canViewBranch } from '@umi/kit';
import type { InventoryContext } from './context';

const isTenantUser = rule({ cache: 'contextual' })((_p, _a, ctx: InventoryContext) => ctx.tenant !== null);
/** Catalogue owners: ADMIN and OPERATIONS. */
const isCatalogueManager = rule({ cache: 'contextual' })(
  (_p, _a, ctx: InventoryContext) => ctx.tenant !== null && (ctx.principal?.role === 'ADMIN' || ctx.principal?.role === 'OPERATIONS'),
);
/** Everyone but cashiers: cost prices, the ledger, suppliers, orders and stock changes. */
const isStockStaff = rule({ cache: 'contextual' })(
  (_p, _a, ctx: InventoryContext) => ctx.tenant !== null && !!ctx.principal && ctx.principal.role !== 'CASHIER',
);
/** The field's `branchId` argument is a branch the caller may see (the services re-check it, with NOT_FOUND). */
const seesBranchArg = rule({ cache: 'strict' })(
  (_p, args: { branchId?: string }, ctx: InventoryContext) => !!ctx.principal && typeof args.branchId === 'string' && canViewBranch(ctx.principal, args.branchId.toLowerCase()),
);

const tenantRead = and(isTenantUser, seesBranchArg);
const staffRead = and(isStockStaff, seesBranchArg);

/**
 * Deny by default (the shield's fallback). Role rules live here; rules on a branch that comes from
 * a row (a batch's, an order's) are checked by the services with the same predicates (access.ts).
 * The entity types carry their own rules, since `_entities` bypasses the Query field rules.
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
    suppliers: isStockStaff,
    purchaseOrders: staffRead,
    purchaseOrder: isStockStaff,
    lowStockEvent: isTenantUser,
  },
  Mutation: {
    createProduct: isCatalogueManager,
    updateProduct: isCatalogueManager,
    deactivateProduct: isCatalogueManager,
    createSupplier: isCatalogueManager,
    setBranchProductSettings: isStockStaff,
    receiveStock: isStockStaff,
    adjustStock: isStockStaff,
    setBatchStatus: isStockStaff,
    writeOffExpiredStock: isStockStaff,
    transferStock: isStockStaff,
    createPurchaseOrder: isStockStaff,
    sendPurchaseOrder: isStockStaff,
    receivePurchaseOrder: isStockStaff,
    cancelPurchaseOrder: isStockStaff,
  },
  // Every root field and `_entities` requires a tenant user, and these types are reachable only
  // below them; `allow` on their plain fields spares a per-field wrapper (see withoutAllowedFields).
  // Fields that need more than the root's rule keep their own.
  Product: { '*': allow, sellingPrice: tenantRead, stock: tenantRead, batches: tenantRead },
  Branch: { '*': allow, stock: isTenantUser },
  User: allow,
  StockLevel: allow,
  LowStockAlert: allow,
  InventoryBatch: { '*': allow, supplier: isStockStaff, costPrice: isStockStaff },
  ProductConnection: allow,
  ProductEdge: allow,
  PageInfo: allow,
  StockMovement: isStockStaff,
  StockMovementEdge: isStockStaff,
  StockMovementConnection: isStockStaff,
  StockTransfer: isStockStaff,
  StockTransferLine: isStockStaff,
  Supplier: isStockStaff,
  PurchaseOrder: isStockStaff,
  PurchaseOrderItem: isStockStaff,
  PurchaseOrderEdge: isStockStaff,
  PurchaseOrderConnection: isStockStaff,
  _Service: allow,
};
