import DataLoader from 'dataloader';
import { byId, groupBy, sql, tables, validIds, type CacheScope } from '@umi/db';
import type { InventoryBatch, Product, ProductBranchSetting, PurchaseOrderItem, StockTransferItem, Supplier } from '@umi/db/tenant-models';
import { requireTenant, type LoaderScope, type SubgraphRuntime } from '@umi/subgraph';
import { PRODUCT_FIELDS, PRODUCTS_P } from './product-rows';

/** A product at a branch. */
export interface BranchProduct {
  branchId: string;
  productId: string;
}

/** A product at a branch, on the branch's calendar date (expiry is judged against it). */
export interface StockKey extends BranchProduct {
  today: string;
}

/** A branch on its calendar date. */
export interface BranchDay {
  branchId: string;
  today: string;
}

const stockKey = (k: BranchProduct) => `${k.branchId}|${k.productId}`;

/** A product's stock at a branch, batches summed (what StockLevel resolves from). */
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
const PRODUCT_COLUMNS = sql`p.id::text AS "product.id", p.sku AS "product.sku", p.name AS "product.name", p.generic_name AS "product.genericName",
  p.atc_code AS "product.atcCode", p.category AS "product.category", p.description AS "product.description",
  p.manufacturer AS "product.manufacturer", p.strength AS "product.strength", p.form AS "product.form", p.barcode AS "product.barcode",
  p.requires_prescription AS "product.requiresPrescription", p.controlled_substance AS "product.controlledSubstance",
  p.tax_category AS "product.taxCategory", p.storage_requirements AS "product.storageRequirements",
  p.unit_of_measure AS "product.unitOfMeasure", p.is_active AS "product.isActive", p.created_at AS "product.createdAt",
  p.updated_at AS "product.updatedAt", p.deleted_at AS "product.deletedAt"`;

function splitProduct(row: Record<string, unknown>): Product {
  const product: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (k.startsWith('product.')) product[k.slice(8)] = v;
  return product as unknown as Product;
}

/** The sums behind StockLevel over batches `b` and settings `s` of keys `k` (with `k.today`). */
const STOCK_AGGREGATES = sql`
  coalesce(sum(b.quantity_on_hand), 0)::int AS on_hand,
  coalesce(sum(b.quantity_reserved), 0)::int AS reserved,
  coalesce(sum(b.quantity_on_hand - b.quantity_reserved) FILTER (WHERE b.status = 'AVAILABLE' AND b.expiry_date > k.today), 0)::int AS available,
  coalesce(sum(b.quantity_on_hand) FILTER (WHERE b.expiry_date <= k.today), 0)::int AS expired,
  coalesce(max(s.reorder_level), 0)::int AS reorder_level,
  coalesce(max(s.reorder_quantity), 0)::int AS reorder_quantity,
  max(s.selling_price)::text AS branch_price,
  min(b.expiry_date) FILTER (WHERE b.quantity_on_hand > 0)::text AS next_expiry`;

/**
 * Per-request loaders over the caller's tenant schema: every lookup of a request is batched into
 * one query per kind, and results come back in key order (null or [] for misses).
 */
export function createLoaders(scope: LoaderScope<SubgraphRuntime>) {
  const db = () => requireTenant(scope).db;
  /** Reads through the tenant's caches (see RequestCache); no tenant, no cache. */
  const cached = <T>(name: string, scopes: CacheScope[], key: string, load: () => Promise<T>): Promise<T> =>
    scope.scope ? scope.cache.read(name, scope.scope.tenant.id, scopes, key, load) : load();
  /** Per-key cached reads in front of a batched loader: hits cost no SQL, misses still share one query. */
  const perKey = <K, V>(name: string, inner: DataLoader<K, V, string>, scopesOf: (k: K) => CacheScope[], keyOf: (k: K) => string) =>
    new DataLoader<K, V, string>((keys) => Promise.all(keys.map((k) => cached(name, scopesOf(k), keyOf(k), () => inner.load(k)).catch((err: Error) => err))), {
      cacheKeyFn: keyOf,
    });
  const branchScope = (k: { branchId: string }): CacheScope[] => [`branch:${k.branchId}`];
  const dayKey = (k: StockKey) => `${stockKey(k)}|${k.today}`;
  // Product rows change only through tenant-wide mutations (the catalogue), so they depend on no narrower scope.
  const productById = perKey(
    'product',
    new DataLoader<string, Product | null>(async (ids) =>
      byId(ids, await db().sql.query<Product>(sql`SELECT ${PRODUCT_FIELDS} FROM ${PRODUCTS_P} WHERE p.id = ANY(${validIds(ids)}::uuid[])`)),
    ),
    () => [],
    (id) => id.toLowerCase(),
  );
  /** Every product held or configured at a branch with its stock and product row, by name. */
  async function branchStockRows(branchId: string, today: string): Promise<StockRow[]> {
    const rows = await db().sql.query<RawStockRow & Record<string, unknown>>(
      sql`WITH k AS (
            SELECT ${branchId}::uuid AS branch_id, product_id, ${today}::date AS today
            FROM (SELECT product_id FROM ${tables.inventory_batches} WHERE branch_id = ${branchId}::uuid
                  UNION SELECT product_id FROM ${tables.product_branch_settings} WHERE branch_id = ${branchId}::uuid) held
          ), agg AS (
            SELECT k.branch_id, k.product_id, ${STOCK_AGGREGATES}
            FROM k
            LEFT JOIN ${tables.inventory_batches} b ON b.branch_id = k.branch_id AND b.product_id = k.product_id
            LEFT JOIN ${tables.product_branch_settings} s ON s.branch_id = k.branch_id AND s.product_id = k.product_id
            GROUP BY k.branch_id, k.product_id
          )
          SELECT agg.branch_id::text, agg.product_id::text, agg.on_hand, agg.reserved, agg.available, agg.expired,
                 agg.reorder_level, agg.reorder_quantity, agg.branch_price, agg.next_expiry, ${PRODUCT_COLUMNS}
          FROM agg JOIN ${tables.products} p ON p.id = agg.product_id
          ORDER BY p.name, p.id`,
    );
    return rows.map((r) => ({ ...toStockRow(r), product: splitProduct(r) }));
  }
  return {
    productById,
    batchById: new DataLoader<string, InventoryBatch | null>(async (ids) => byId(ids, await db().inventoryBatch.findMany({ where: { id: { in: validIds(ids) } } }))),
    supplierById: new DataLoader<string, Supplier | null>(async (ids) => byId(ids, await db().supplier.findMany({ where: { id: { in: validIds(ids) } } }))),
    /** StockLevel for (branch, product, today) keys. Available: AVAILABLE batches not yet expired on the branch's date, less reservations. */
    stock: perKey('stock_level', new DataLoader<StockKey, StockRow, string>(
      async (keys) => {
        const rows = await db().sql.query<RawStockRow>(
          sql`WITH k AS (
                SELECT * FROM unnest(${keys.map((k) => k.branchId)}::uuid[], ${keys.map((k) => k.productId)}::uuid[], ${keys.map((k) => k.today)}::date[])
                  AS k(branch_id, product_id, today)
              )
              SELECT k.branch_id::text, k.product_id::text, ${STOCK_AGGREGATES}
              FROM k
              LEFT JOIN ${tables.inventory_batches} b ON b.branch_id = k.branch_id AND b.product_id = k.product_id
              LEFT JOIN ${tables.product_branch_settings} s ON s.branch_id = k.branch_id AND s.product_id = k.product_id
              GROUP BY k.branch_id, k.product_id`,
        );
        const map = new Map(rows.map((r) => [stockKey({ branchId: r.branch_id, productId: r.product_id }), toStockRow(r)]));
        return keys.map((k) => map.get(stockKey(k)) ?? new Error(`no stock row for ${stockKey(k)}`));
      },
      { cacheKeyFn: dayKey },
    ), branchScope, dayKey),
    /**
     * Every product held or configured at a branch, with its product row (primed into
     * productById), by product name: one statement per branch, so the branch id stays a constant
     * the planner can push into both tables' indexes.
     */
    branchStock: new DataLoader<BranchDay, StockRow[], string>(
      (keys) =>
        Promise.all(
          keys.map(async ({ branchId, today }) => {
            const rows = await cached('branch_stock', branchScope({ branchId }), `${branchId}|${today}`, () => branchStockRows(branchId, today));
            for (const r of rows) if (r.product) productById.prime(r.product.id, r.product);
            return rows;
          }),
        ),
      { cacheKeyFn: (k) => `${k.branchId}|${k.today}` },
    ),
    /** The branch's price for the product, else the price of the batch that would be sold next. */
    price: perKey('branch_price', new DataLoader<StockKey, string | null, string>(
      async (keys) => {
        const rows = await db().sql.query<{ branch_id: string; product_id: string; price: string | null }>(
          sql`SELECT k.branch_id::text, k.product_id::text,
                coalesce(s.selling_price, (
                  SELECT b.selling_price FROM ${tables.inventory_batches} b
                  WHERE b.branch_id = k.branch_id AND b.product_id = k.product_id AND b.status = 'AVAILABLE'
                    AND b.expiry_date > k.today AND b.quantity_on_hand > b.quantity_reserved
                  ORDER BY b.expiry_date, b.id LIMIT 1))::text AS price
              FROM unnest(${keys.map((k) => k.branchId)}::uuid[], ${keys.map((k) => k.productId)}::uuid[], ${keys.map((k) => k.today)}::date[])
                AS k(branch_id, product_id, today)
              LEFT JOIN ${tables.product_branch_settings} s ON s.branch_id = k.branch_id AND s.product_id = k.product_id`,
        );
        const map = new Map(rows.map((r) => [stockKey({ branchId: r.branch_id, productId: r.product_id }), r.price]));
        return keys.map((k) => map.get(stockKey(k)) ?? null);
      },
      { cacheKeyFn: dayKey },
    ), branchScope, dayKey),
    /** The product rows of a catalogue page or barcode lookup, cached for the whole tenant. */
    cached,
    settings: new DataLoader<BranchProduct, ProductBranchSetting | null, string>(
      async (keys) => {
        const rows = await db().productBranchSetting.findMany({ where: { OR: keys.map((k) => ({ branchId: k.branchId, productId: k.productId })) } });
        const map = new Map(rows.map((r) => [stockKey(r), r]));
        return keys.map((k) => map.get(stockKey(k)) ?? null);
      },
      { cacheKeyFn: stockKey },
    ),
    /** Batches still holding stock, first expiry first. */
    batchesHeld: new DataLoader<BranchProduct, InventoryBatch[], string>(
      async (keys) => {
        const rows = await db().inventoryBatch.findMany({
          where: { quantityOnHand: { gt: 0 }, OR: keys.map((k) => ({ branchId: k.branchId, productId: k.productId })) },
          orderBy: [{ expiryDate: 'asc' }, { id: 'asc' }],
        });
        const groups = groupBy(rows, stockKey);
        return keys.map((k) => groups.get(stockKey(k)) ?? []);
      },
      { cacheKeyFn: stockKey },
    ),
    poItems: new DataLoader<string, PurchaseOrderItem[]>(async (ids) => {
      const rows = await db().purchaseOrderItem.findMany({
        where: { purchaseOrderId: { in: validIds(ids) } },
        orderBy: [{ product: { name: 'asc' } }, { id: 'asc' }],
      });
      const groups = groupBy(rows, (r) => r.purchaseOrderId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
    transferItems: new DataLoader<string, StockTransferItem[]>(async (ids) => {
      const rows = await db().stockTransferItem.findMany({ where: { transferId: { in: validIds(ids) } }, orderBy: [{ expiryDate: 'asc' }, { id: 'asc' }] });
      const groups = groupBy(rows, (r) => r.transferId);
      return ids.map((id) => groups.get(id) ?? []);
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;

/** The product a row refers to: its foreign key guarantees one, so a miss is a bug, not a null. */
export async function referencedProduct(loaders: Loaders, productId: string): Promise<Product> {
  const product = await loaders.productById.load(productId);
  if (!product) throw new Error(`product ${productId} is referenced but missing`);
  return product;
}
