/** Row types of the tenant schema's tables, as Prisma returns them (the mappers of the GraphQL types). */
export type { TenantSetting, TaxRate, Product, ProductBranchSetting, Supplier, InventoryBatch, StockMovement, PurchaseOrder, PurchaseOrderItem, StockTransfer, StockTransferItem, LowStockState, Patient, Prescription, PrescriptionItem, DispensedItem, InteractionRule, SafetyAlert, ControlledRegisterEntry, Till, TillSession, Sale, SaleItem, Payment, Refund, RefundItem, Payout, IdempotencyKey, NumberSequence, AuditLog, ComplianceEvent, OutboxEvent } from './generated/tenant/client';
/** Prisma's namespace of the tenant schema: input types (`TenantPrisma.ProductWhereInput`) and `Decimal`. */
export { Prisma as TenantPrisma } from './generated/tenant/client';
