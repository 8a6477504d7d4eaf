import DataLoader from 'dataloader';
import { byId, groupBy, validIds } from '@umi/db';
import type { FiscalDocument, Payment, PaymentAttempt, Refund, RefundItem, Sale, SaleItem, Till, TillSession } from '@umi/db/tenant-models';
import { requireTenant, type LoaderScope, type SubgraphRuntime } from '@umi/subgraph';

export interface ProductInfo {
  id: string;
  name: string;
}

/** A refund line with the product and lot of the sale line it gives back. */
export type RefundItemRow = RefundItem & { productId: string; batchNumber: string };

export interface UserInfo {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
}

/**
 * Per-request loaders over the caller's tenant schema: every lookup of a request is batched into
 * one query per kind, and results come back in key order (null or [] for misses).
 */
export function createLoaders(scope: LoaderScope<SubgraphRuntime>) {
  const db = () => requireTenant(scope).db;
  return {
    saleById: new DataLoader<string, Sale | null>(async (ids) => byId(ids, await db().sale.findMany({ where: { id: { in: validIds(ids) } } }))),
    itemsBySale: new DataLoader<string, SaleItem[]>(async (ids) => {
      const rows = await db().saleItem.findMany({ where: { saleId: { in: validIds(ids) } }, orderBy: [{ productId: 'asc' }, { batchNumber: 'asc' }] });
      const groups = groupBy(rows, (r) => r.saleId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    paymentsBySale: new DataLoader<string, Payment[]>(async (ids) => {
      const rows = await db().payment.findMany({ where: { saleId: { in: validIds(ids) } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      const groups = groupBy(rows, (r) => r.saleId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    /** A sale's fiscal documents (its invoice and credit notes), in queue order. */
    fiscalBySale: new DataLoader<string, FiscalDocument[]>(async (ids) => {
      const rows = await db().fiscalDocument.findMany({ where: { saleId: { in: validIds(ids) } }, orderBy: { seq: 'asc' } });
      const groups = groupBy(rows, (r) => r.saleId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    /** The request to pay of each mobile-money payment, null for the others. */
    attemptByPayment: new DataLoader<string, PaymentAttempt | null>(async (ids) => {
      const rows = await db().paymentAttempt.findMany({ where: { paymentId: { in: validIds(ids) } } });
      const map = new Map(rows.map((r) => [r.paymentId, r]));
      return ids.map((id) => map.get(id) ?? null);
    }),
    /** A sale's refunds, oldest first. */
    refundsBySale: new DataLoader<string, Refund[]>(async (ids) => {
      const rows = await db().refund.findMany({ where: { saleId: { in: validIds(ids) } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      const groups = groupBy(rows, (r) => r.saleId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    /** A refund's lines, with the product and lot of the sale line each gives back. */
    itemsByRefund: new DataLoader<string, RefundItemRow[]>(async (ids) => {
      const rows = await db().refundItem.findMany({ where: { refundId: { in: validIds(ids) } }, orderBy: [{ saleItemId: 'asc' }] });
      // sale_items is partitioned by month (0010): its lines are read by id, not through a relation.
      const lines = await db().saleItem.findMany({
        where: { id: { in: [...new Set(rows.map((r) => r.saleItemId))] } },
        select: { id: true, productId: true, batchNumber: true },
      });
      const lineOf = new Map(lines.map((l) => [l.id, l]));
      const groups = groupBy(
        rows.flatMap((r) => {
          const line = lineOf.get(r.saleItemId);
          return line ? [{ ...r, productId: line.productId, batchNumber: line.batchNumber }] : [];
        }),
        (r) => r.refundId,
      );
      return ids.map((id) => groups.get(id) ?? []);
    }),
    /** Units of each sale line refunded so far. */
    refundedQuantityBySaleItem: new DataLoader<string, number>(async (ids) => {
      const rows = await db().refundItem.groupBy({ by: ['saleItemId'], where: { saleItemId: { in: validIds(ids) } }, _sum: { quantity: true } });
      const map = new Map(rows.map((r) => [r.saleItemId, r._sum.quantity ?? 0]));
      return ids.map((id) => map.get(id) ?? 0);
    }),
    /** Product names for receipts (the catalogue is the inventory's; the POS only reads it). */
    productById: new DataLoader<string, ProductInfo | null>(async (ids) =>
      byId(ids, await db().product.findMany({ where: { id: { in: validIds(ids) } }, select: { id: true, name: true } })),
    ),
    /** Staff names for receipts, from the shared schema under the tenant's row-level security. */
    userById: new DataLoader<string, UserInfo | null>(async (ids) => {
      const { tenant } = requireTenant(scope);
      return byId(
        ids,
        await scope.shared.transaction((tx) =>
          tx.user.findMany({ where: { id: { in: validIds(ids) }, tenantId: tenant.id }, select: { id: true, firstName: true, lastName: true, email: true } }),
        ),
      );
    }),
    tillById: new DataLoader<string, Till | null>(async (ids) => byId(ids, await db().till.findMany({ where: { id: { in: validIds(ids) } } }))),
    openSessionByTill: new DataLoader<string, TillSession | null>(async (ids) => {
      const rows = await db().tillSession.findMany({ where: { tillId: { in: validIds(ids) }, status: 'OPEN' } });
      const map = new Map(rows.map((r) => [r.tillId, r]));
      return ids.map((id) => map.get(id) ?? null);
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
