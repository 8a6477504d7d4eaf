import DataLoader from 'dataloader';
import type { Pool } from 'pg';
import { byId, groupBy, tenantTable, validIds, type SubgraphRuntime, type TenantClient, type TenantRecord } from '@umi/db';
import type { InventoryBatch, Product, ProductBranchSetting, PurchaseOrderItem, StockTransferItem, Supplier } from '@umi/db/src/generated/tenant/client';

/** A product at a branch, on the branch's calendar date (expiry is judged against it). */
export interface StockKey {
  branchId: string;
  productId: string;
  today: string;
}
const stockKey = (k: { branchId: string; productId: string }) => `${k.branchId}|${k.productId}`;

/** A product's stock at a branch, batches summed. */
export interface StockRow {
  branchId: string;
  productId: string;
  quantityOnHand: number;
  quantityReserved: number;
  quantityAvailable: number;
  quantityExpired: number;
  reorderLevel: number;
  reorderQuantity: number;
  branchPrice: string | null;
  nextExpiry: string | null;
  /** Present when the product row was read with the stock (a branch's list). */
  product?: Product;
}

interface RawStockRow {
  branch_id: string;
  product_id: string;
  on_hand: number;
  reserved: number;
  available: number;
  expired: number;
  reorder_level: number;
  reorder_quantity: number;
  branch_price: string | null;
  next_expiry: string | null;
}

const toStockRow = (r: RawStockRow): StockRow => ({
  branchId: r.branch_id,
  productId: r.product_id,
  quantityOnHand: r.on_hand,
  quantityReserved: r.reserved,
  quantityAvailable: r.available,
  quantityExpired: r.expired,
  reorderLevel: r.reorder_level,
  reorderQuantity: r.reorder_quantity,
  branchPrice: r.branch_price,
  nextExpiry: r.next_expiry,
});

/** Columns of `products` under the names of Prisma's Product model, prefixed for splitting out of a joined row. */
const PRODUCT_COLUMNS = Object.entries({
  id: 'id::text',
  sku: 'sku',
  name: 'name',
  genericName: 'generic_name',
  atcCode: 'atc_code',
  category: 'category',
  description: 'description',
  manufacturer: 'manufacturer',
  strength: 'strength',
  form: 'form',
  barcode: 'barcode',
  requiresPrescription: 'requires_prescription',
  controlledSubstance: 'controlled_substance',
  taxCategory: 'tax_category',
  storageRequirements: 'storage_requirements',
  unitOfMeasure: 'unit_of_measure',
  isActive: 'is_active',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  deletedAt: 'deleted_at',
})
  .map(([field, column]) => `p.${column} AS "product.${field}"`)
  .join(', ');

function splitProduct(row: Record<string, unknown>): Product {
  const product: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (k.startsWith('product.')) product[k.slice(8)] = v;
  return product as unknown as Product;
}

const STOCK_AGGREGATES = `
  coalesce(sum(b.quantity_on_hand), 0)::int AS on_hand,
  coalesce(sum(b.quantity_reserved), 0)::int AS reserved,
  coalesce(sum(b.quantity_on_hand - b.quantity_reserved) FILTER (WHERE b.status = 'AVAILABLE' AND b.expiry_date > k.today), 0)::int AS available,
  coalesce(sum(b.quantity_on_hand) FILTER (WHERE b.expiry_date <= k.today), 0)::int AS expired,
  coalesce(max(s.reorder_level), 0)::int AS reorder_level,
  coalesce(max(s.reorder_quantity), 0)::int AS reorder_quantity,
  max(s.selling_price)::text AS branch_price,
  min(b.expiry_date) FILTER (WHERE b.quantity_on_hand > 0)::text AS next_expiry`;

/**
 * The aggregate behind StockLevel for (branch, product, today) keys. Available = AVAILABLE
 * batches not yet expired on the branch's date, less reservations.
 */
function stockByKeysSql(schema: string): string {
  const t = (name: string) => tenantTable(schema, name);
  return `
    WITH k AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::date[]) AS k(branch_id, product_id, today))
    SELECT k.branch_id::text, k.product_id::text, ${STOCK_AGGREGATES}
    FROM k
    LEFT JOIN ${t('inventory_batches')} b ON b.branch_id = k.branch_id AND b.product_id = k.product_id
    LEFT JOIN ${t('product_branch_settings')} s ON s.branch_id = k.branch_id AND s.product_id = k.product_id
    GROUP BY k.branch_id, k.product_id`;
}

/** Every product held or configured at a branch, with its product row, by product name: one statement. */
function branchStockSql(schema: string): string {
  const t = (name: string) => tenantTable(schema, name);
  return `
    WITH k AS (
      SELECT $1::uuid AS branch_id, product_id, $2::date AS today
      FROM (SELECT product_id FROM ${t('inventory_batches')} WHERE branch_id = $1::uuid
            UNION SELECT product_id FROM ${t('product_branch_settings')} WHERE branch_id = $1::uuid) held
    ), agg AS (
      SELECT k.branch_id, k.product_id, ${STOCK_AGGREGATES}
      FROM k
      LEFT JOIN ${t('inventory_batches')} b ON b.branch_id = k.branch_id AND b.product_id = k.product_id
      LEFT JOIN ${t('product_branch_settings')} s ON s.branch_id = k.branch_id AND s.product_id = k.product_id
      GROUP BY k.branch_id, k.product_id
    )
    SELECT agg.branch_id::text, agg.product_id::text, agg.on_hand, agg.reserved, agg.available, agg.expired,
           agg.reorder_level, agg.reorder_quantity, agg.branch_price, agg.next_expiry, ${PRODUCT_COLUMNS}
    FROM agg JOIN ${t('products')} p ON p.id = agg.product_id
    ORDER BY p.name, p.id`;
}

/** A branch's stock rows with their products (primed into the request's product loader). */
export async function loadBranchStock(pool: Pool, schema: string, branchId: string, today: string, productLoader: DataLoader<string, Product | null>): Promise<StockRow[]> {
  const { rows } = await pool.query<RawStockRow & Record<string, unknown>>(branchStockSql(schema), [branchId, today]);
  return rows.map((r) => {
    const product = splitProduct(r);
    productLoader.prime(product.id, product);
    return { ...toStockRow(r), product };
  });
}

/**
 * Per-request loaders over the caller's tenant schema: every lookup of a request is batched into
 * one query per kind, and results come back in key order (null or [] for misses).
 */
export function createLoaders(db: TenantClient, tenant: TenantRecord, deps: SubgraphRuntime) {
  const schema = tenant.schemaName;
  const t = (name: string) => tenantTable(schema, name);
  return {
    productById: new DataLoader<string, Product | null>(async (ids) =>
      byId(ids, await db.product.findMany({ where: { id: { in: validIds(ids) } } })),
    ),
    batchById: new DataLoader<string, InventoryBatch | null>(async (ids) =>
      byId(ids, await db.inventoryBatch.findMany({ where: { id: { in: validIds(ids) } } })),
    ),
    supplierById: new DataLoader<string, Supplier | null>(async (ids) =>
      byId(ids, await db.supplier.findMany({ where: { id: { in: validIds(ids) } } })),
    ),
    stock: new DataLoader<StockKey, StockRow, string>(
      async (keys) => {
        const { rows } = await deps.appPool.query<RawStockRow>(stockByKeysSql(schema), [
          keys.map((k) => k.branchId),
          keys.map((k) => k.productId),
          keys.map((k) => k.today),
        ]);
        const map = new Map(rows.map((r) => [stockKey({ branchId: r.branch_id, productId: r.product_id }), toStockRow(r)]));
        return keys.map((k) => map.get(stockKey(k))!);
      },
      { cacheKeyFn: stockKey },
    ),
    /** The branch's price for the product, else the price of the batch that would be sold next. */
    price: new DataLoader<StockKey, string | null, string>(
      async (keys) => {
        const rows = await db.$queryRawUnsafe<{ branch_id: string; product_id: string; price: string | null }[]>(
          `SELECT k.branch_id::text, k.product_id::text,
             coalesce(s.selling_price, (
               SELECT b.selling_price FROM ${t('inventory_batches')} b
               WHERE b.branch_id = k.branch_id AND b.product_id = k.product_id AND b.status = 'AVAILABLE'
                 AND b.expiry_date > k.today AND b.quantity_on_hand > b.quantity_reserved
               ORDER BY b.expiry_date, b.id LIMIT 1))::text AS price
           FROM unnest($1::uuid[], $2::uuid[], $3::date[]) AS k(branch_id, product_id, today)
           LEFT JOIN ${t('product_branch_settings')} s ON s.branch_id = k.branch_id AND s.product_id = k.product_id`,
          keys.map((k) => k.branchId),
          keys.map((k) => k.productId),
          keys.map((k) => k.today),
        );
        const map = new Map(rows.map((r) => [stockKey({ branchId: r.branch_id, productId: r.product_id }), r.price]));
        return keys.map((k) => map.get(stockKey(k)) ?? null);
      },
      { cacheKeyFn: stockKey },
    ),
    settings: new DataLoader<{ branchId: string; productId: string }, ProductBranchSetting | null, string>(
      async (keys) => {
        const rows = await db.productBranchSetting.findMany({
          where: { OR: keys.map((k) => ({ branchId: k.branchId, productId: k.productId })) },
        });
        const map = new Map(rows.map((r) => [stockKey(r), r]));
        return keys.map((k) => map.get(stockKey(k)) ?? null);
      },
      { cacheKeyFn: stockKey },
    ),
    /** Batches still holding stock, first expiry first. */
    batchesHeld: new DataLoader<{ branchId: string; productId: string }, InventoryBatch[], string>(
      async (keys) => {
        const rows = await db.inventoryBatch.findMany({
          where: { quantityOnHand: { gt: 0 }, OR: keys.map((k) => ({ branchId: k.branchId, productId: k.productId })) },
          orderBy: [{ expiryDate: 'asc' }, { id: 'asc' }],
        });
        const groups = groupBy(rows, stockKey);
        return keys.map((k) => groups.get(stockKey(k)) ?? []);
      },
      { cacheKeyFn: stockKey },
    ),
    poItems: new DataLoader<string, PurchaseOrderItem[]>(async (ids) => {
      const rows = await db.purchaseOrderItem.findMany({
        where: { purchaseOrderId: { in: validIds(ids) } },
        orderBy: [{ product: { name: 'asc' } }, { id: 'asc' }],
      });
      const groups = groupBy(rows, (r) => r.purchaseOrderId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    transferItems: new DataLoader<string, StockTransferItem[]>(async (ids) => {
      const rows = await db.stockTransferItem.findMany({ where: { transferId: { in: validIds(ids) } }, orderBy: [{ expiryDate: 'asc' }, { id: 'asc' }] });
      const groups = groupBy(rows, (r) => r.transferId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
