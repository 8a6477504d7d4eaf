/**
 * Checkout: throughput (sales/s) and latency of the contract's `CreateSale` mutation through the
 * gateway with 3-item cash carts, beside the same checkout transaction written as plain SQL over
 * `pg` (the floor), at each requested concurrency, from one run.
 *
 *   npx tsx bench/checkout.ts [--requests 300] [--concurrency 1,8,32] [--warmup 30] [--block 50] [--products 200]
 *   npx tsx bench/checkout.ts --trace 50   (each statement of each path's checkout timed, no blocks)
 *
 * Uses DATABASE_URL (a PostgreSQL admin URL) when set, otherwise an embedded PostgreSQL.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import Decimal from 'decimal.js';
import pg, { type Pool } from 'pg';
import { operation } from '@umi/clients';
import { tenantSchemaName, quoteIdent } from '@umi/db';
import { dateInZone } from '@umi/kit';
import { createTenant, createUser, openTillSession } from '@umi/testkit';
import { asProcesses, blockOptions, inPoolTransaction, measure, percentile, out, outHeader, outStatsTable, positiveInt, postGraphql, runMain, stringOptions, tableIn, timed, withPlatform, type Timed } from './lib';

const CART_LINES = 3;
const BATCHES_PER_PRODUCT = 2;
// Far more than the run can sell, so that no checkout ever fails for stock and the FEFO batch of
// every line is always the first one.
const UNITS_PER_BATCH = 1_000_000;

const PATHS = ['gateway', 'sql'] as const;
type PathName = (typeof PATHS)[number];

interface CartLine {
  productId: string;
  quantity: number;
}

/** Runs one checkout and resolves to the sale's id; throws on any error. */
type Checkout = () => Promise<string>;

// As in the pos subgraph's pricing: 64 digits keep every intermediate exact before rounding to ngwee.
const Money = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_UP });
type Money = InstanceType<typeof Money>;

function options() {
  const values = stringOptions({ requests: '300', concurrency: '1,8,32', warmup: '30', block: '50', products: '200', trace: '0' });
  const products = positiveInt(values.products, '--products');
  if (products < CART_LINES) throw new Error(`--products must be at least ${CART_LINES}, got ${products}`);
  const trace = values.trace === '0' ? 0 : positiveInt(values.trace, '--trace');
  if (trace > 0 && asProcesses) throw new Error('--trace times the statements of this process: it cannot be combined with --processes');
  return { ...blockOptions(values), products, trace };
}

/** Three distinct products, 1 to 3 units each. */
function randomCart(productIds: string[]): CartLine[] {
  const picked = new Set<number>();
  while (picked.size < CART_LINES) picked.add(randomInt(productIds.length));
  return [...picked].map((i) => ({ productId: productIds[i] as string, quantity: randomInt(1, 4) }));
}

/**
 * Writes the catalogue and its stock straight into the tenant schema with the owner pool: this is
 * fixture data, and receipts through the API would take longer than the measurement. Every batch
 * gets one GRN movement for its whole quantity, so that the ledger invariant (on hand = sum of the
 * batch's movements) holds before the run and can be checked after it.
 */
async function seedStock(pool: Pool, schema: string, branchId: string, products: number): Promise<string[]> {
  const t = tableIn(schema);
  await inPoolTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO ${t('products')} (sku, name, generic_name, tax_category, requires_prescription, controlled_substance)
       SELECT 'BENCH-' || lpad(n::text, 4, '0'), 'Bench product ' || lpad(n::text, 4, '0'), 'bench',
         (ARRAY['STANDARD', 'ZERO_RATED', 'EXEMPT'])[1 + n % 3], false, false
       FROM generate_series(1, $1::int) AS n`,
      [products],
    );
    // Prices with ngwee that do not divide evenly by 1.16, so that VAT rounding is exercised.
    await client.query(
      `INSERT INTO ${t('inventory_batches')}
         (branch_id, product_id, batch_number, expiry_date, quantity_on_hand, cost_price, selling_price)
       SELECT $1::uuid, p.id, p.sku || '-B' || b, CURRENT_DATE + 180 * b, $3::int,
         round(price * 0.7, 2), price
       FROM ${t('products')} p
       CROSS JOIN generate_series(1, $2::int) AS b
       CROSS JOIN LATERAL (SELECT round((2 + (substr(p.sku, 7)::int * 7 + b * 3) % 150 + 0.37 * b)::numeric, 2) AS price) x
       WHERE p.sku LIKE 'BENCH-%'`,
      [branchId, BATCHES_PER_PRODUCT, UNITS_PER_BATCH],
    );
    await client.query(
      `INSERT INTO ${t('stock_movements')} (branch_id, product_id, batch_id, type, quantity, balance_after, reference)
       SELECT branch_id, product_id, id, 'GRN', quantity_on_hand, quantity_on_hand, 'BENCH'
       FROM ${t('inventory_batches')} WHERE branch_id = $1::uuid`,
      [branchId],
    );
    // No branch price, so the FEFO batch's price applies; reorder level 0 keeps the low-stock
    // refresh on its "not low" path, as for a well-stocked shelf.
    await client.query(
      `INSERT INTO ${t('product_branch_settings')} (product_id, branch_id, reorder_level, reorder_quantity)
       SELECT id, $1::uuid, 0, 0 FROM ${t('products')} WHERE sku LIKE 'BENCH-%'`,
      [branchId],
    );
  });
  // Fresh tables have no statistics; without them the first plans would be guesses.
  await pool.query(`ANALYZE ${t('products')}, ${t('inventory_batches')}, ${t('product_branch_settings')}, ${t('stock_movements')}`);
  const { rows } = await pool.query<{ id: string }>(`SELECT id::text FROM ${t('products')} WHERE sku LIKE 'BENCH-%' ORDER BY sku`);
  return rows.map((r) => r.id);
}

interface FloorContext {
  schema: string;
  tenantId: string;
  cashierId: string;
  branch: { id: string; code: string; timezone: string };
}

interface ProductRow {
  id: string;
  name: string;
  is_active: boolean;
  deleted_at: Date | null;
  requires_prescription: boolean;
  tax_category: string;
  branch_price: string | null;
  tax_rate: string | null;
  include_tax: boolean;
}

interface BatchRow {
  id: string;
  product_id: string;
  batch_number: string;
  available: number;
  selling_price: string;
}

/**
 * The floor's statements, built once: table names are qualified with the quoted tenant schema. One
 * per round trip createSale makes for a cash sale of uncontrolled products, in its order.
 */
function floorStatements(schema: string) {
  const t = tableIn(schema);
  return {
    // The key names its sale from the start, as in createSale: nothing to settle at the end.
    claim: `INSERT INTO ${t('idempotency_keys')} (scope, key, request_hash, resource_id) VALUES ('createSale', $1, $2, $3::uuid)
            ON CONFLICT (scope, key) DO NOTHING RETURNING 1`,
    // The products with their branch price, the VAT rate in force per product and the tenant's pricing switch (loadSaleProducts).
    products: `SELECT p.id::text, p.name, p.is_active, p.deleted_at, p.requires_prescription, p.tax_category, s.selling_price::text AS branch_price,
                 (SELECT r.rate::text FROM ${t('tax_rates')} r
                  WHERE r.category = p.tax_category AND r.effective_from <= $3::date ORDER BY r.effective_from DESC LIMIT 1) AS tax_rate,
                 coalesce((SELECT (value #>> '{}')::boolean FROM ${t('tenant_settings')} WHERE key = 'prices_include_tax'), true) AS include_tax
               FROM ${t('products')} p
               LEFT JOIN ${t('product_branch_settings')} s ON s.product_id = p.id AND s.branch_id = $2::uuid
               WHERE p.id = ANY($1::uuid[])`,
    // The seller's one open till session, found and locked (shared) in one statement (ownOpenSession).
    session: `SELECT id::text, status FROM ${t('till_sessions')}
              WHERE branch_id = $1::uuid AND opened_by = $2::uuid AND status = 'OPEN' LIMIT 2 FOR SHARE`,
    lock: `WITH locked AS (
             INSERT INTO ${t('product_branch_settings')} (product_id, branch_id)
             SELECT product_id, branch_id FROM unnest($1::uuid[], $2::uuid[]) AS k(product_id, branch_id) ORDER BY product_id, branch_id
             ON CONFLICT (product_id, branch_id) DO UPDATE SET product_id = EXCLUDED.product_id
             RETURNING product_id, branch_id
           )
           SELECT l.product_id::text, p.controlled_substance AS controlled
           FROM locked l JOIN ${t('products')} p ON p.id = l.product_id`,
    batches: `SELECT id::text, product_id::text, batch_number, quantity_on_hand - quantity_reserved AS available, selling_price::text
              FROM ${t('inventory_batches')}
              WHERE branch_id = $1::uuid AND product_id = ANY($2::uuid[]) AND status = 'AVAILABLE'
                AND expiry_date > $3::date AND quantity_on_hand > quantity_reserved
              ORDER BY product_id, expiry_date, id
              FOR UPDATE`,
    // The sale has no number yet: its ledger rows name it by id (reference_id), reference stays NULL.
    moves: `WITH m AS (
              SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[]) AS m(batch_id, product_id, delta, ord)
            ), upd AS (
              UPDATE ${t('inventory_batches')} b
              SET quantity_on_hand = b.quantity_on_hand + m.delta, updated_at = now()
              FROM m
              WHERE b.id = m.batch_id AND b.branch_id = $5::uuid AND b.product_id = m.product_id
                AND b.quantity_on_hand + m.delta >= b.quantity_reserved
              RETURNING b.id, b.quantity_on_hand
            )
            INSERT INTO ${t('stock_movements')}
              (branch_id, product_id, batch_id, type, quantity, balance_after, reason, reference, reference_id, user_id)
            SELECT $5::uuid, m.product_id, m.batch_id, 'SALE', m.delta, upd.quantity_on_hand, NULL, NULL, $6::uuid, $7::uuid
            FROM upd JOIN m ON m.batch_id = upd.id ORDER BY m.ord
            RETURNING id`,
    // The low-stock refresh with the change's inventory.updated event, in one statement as the ledger
    // writes them; a product that crossed to low would get its inventory.low_stock event in a second
    // statement (the fixture's reorder level 0 never crosses).
    lowStock: `WITH levels AS (
                 SELECT s.product_id, s.branch_id, s.reorder_level,
                   coalesce((SELECT sum(b.quantity_on_hand - b.quantity_reserved) FROM ${t('inventory_batches')} b
                             WHERE b.branch_id = s.branch_id AND b.product_id = s.product_id
                               AND b.status = 'AVAILABLE' AND b.expiry_date > $3::date), 0)::int AS available
                 FROM ${t('product_branch_settings')} s
                 WHERE s.branch_id = $1::uuid AND s.product_id = ANY($2::uuid[])
               ), flipped AS (
                 INSERT INTO ${t('low_stock_state')} AS st (branch_id, product_id, is_low)
                 SELECT branch_id, product_id, available <= reorder_level FROM levels ORDER BY product_id
                 ON CONFLICT (branch_id, product_id) DO UPDATE SET is_low = EXCLUDED.is_low, changed_at = now()
                   WHERE st.is_low IS DISTINCT FROM EXCLUDED.is_low
                 RETURNING product_id, is_low
               ), inventory_updated AS (
                 INSERT INTO ${t('outbox')} (event_type, aggregate_id, branch_id, payload)
                 VALUES ('inventory.updated', $1::uuid, $1::uuid, $4::jsonb)
               )
               SELECT l.product_id::text, l.available, l.reorder_level
               FROM flipped f JOIN levels l ON l.product_id = f.product_id
               WHERE f.is_low`,
    // The sale (unnumbered), its lines and its payment in one statement (writeSale).
    sale: `WITH sale AS (
             INSERT INTO ${t('sales')}
               (id, sale_number, branch_id, till_session_id, cashier_id, subtotal, tax_amount, discount_amount, total_amount,
                prices_include_tax, payment_method, payment_status, prescription_ids)
             VALUES ($1::uuid, '~' || $1, $2::uuid, $3::uuid, $4::uuid, $5::numeric, $6::numeric, 0, $7::numeric, $8, 'CASH', 'PAID', '{}')
             RETURNING id, created_at
           ), items AS (
             INSERT INTO ${t('sale_items')}
               (id, sale_id, product_id, batch_id, batch_number, quantity, unit_price, tax_category, tax_rate, tax_amount, discount_amount, line_total, sale_created_at)
             SELECT gen_random_uuid(), $1::uuid, i.product_id, i.batch_id, i.batch_number, i.quantity, i.unit_price, i.tax_category, i.tax_rate, i.tax_amount, 0, i.line_total, sale.created_at
             FROM sale, unnest($9::uuid[], $10::uuid[], $11::text[], $12::int[], $13::numeric[], $14::text[], $15::numeric[], $16::numeric[], $17::numeric[])
               AS i(product_id, batch_id, batch_number, quantity, unit_price, tax_category, tax_rate, tax_amount, line_total)
           ), pays AS (
             INSERT INTO ${t('payments')} (sale_id, till_session_id, method, amount, tendered, change_given, status, processed_at)
             SELECT $1::uuid, $3::uuid, 'CASH', $7::numeric, $7::numeric, 0, 'COMPLETED', now() WHERE $7::numeric > 0
           )
           SELECT created_at FROM sale`,
    // Last: the branch's gapless number, given to the sale and to its sale.completed event in one
    // statement (numberSale). The sequence row stays locked until COMMIT, the next round trip.
    number: `WITH seq AS (
               INSERT INTO ${t('number_sequences')} (name, next_value) VALUES ('sale:' || $2::text, 2)
               ON CONFLICT (name) DO UPDATE SET next_value = number_sequences.next_value + 1
               RETURNING (next_value - 1)::text AS n
             ), numbered AS (
               UPDATE ${t('sales')} sl SET sale_number = $2::text || '-' || lpad(seq.n, greatest(6, length(seq.n)), '0')
               FROM seq WHERE sl.id = $1::uuid AND sl.sale_number = '~' || $1
               RETURNING sl.id, sl.branch_id, sl.sale_number
             ), event AS (
               INSERT INTO ${t('outbox')} (event_type, aggregate_id, branch_id, payload)
               SELECT 'sale.completed', n.id, n.branch_id, jsonb_set($3::jsonb, '{data,saleNumber}', to_jsonb(n.sale_number)) FROM numbered n
             )
             SELECT sale_number FROM numbered`,
  };
}

const ngwee = (d: Money): Money => d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
const money = (d: Money): string => d.toFixed(2, Decimal.ROUND_HALF_UP);

/**
 * The floor: what createSale does inside its transaction, statement for statement and in the same
 * order, over one `pg` connection. What createSale does before it (input parsing, the branch
 * access check) and after it (loading the sale for the answer) is the API's, not the database's.
 */
function sqlCheckout(pool: Pool, ctx: FloorContext, productIds: string[]): Checkout {
  const sql = floorStatements(ctx.schema);
  const branch = ctx.branch;
  return async () => {
    const cart = randomCart(productIds);
    const key = randomUUID();
    const hash = createHash('sha256')
      .update(JSON.stringify({ branchId: branch.id, items: [...cart].sort((a, b) => (a.productId < b.productId ? -1 : 1)), paymentMethod: 'CASH' }))
      .digest('hex');
    const today = dateInZone(branch.timezone);
    const correlationId = randomUUID();
    const metadata = { tenantId: ctx.tenantId, branchId: branch.id, userId: ctx.cashierId, correlationId };
    const saleId = randomUUID();
    return inPoolTransaction(pool, async (client) => {
      const claimed = await client.query(sql.claim, [key, hash, saleId]);
      if (claimed.rowCount !== 1) throw new Error(`sql: idempotency key ${key} already used`);

      const ids = cart.map((l) => l.productId);
      const products = await client.query<ProductRow>(sql.products, [ids, branch.id, today]);
      const byId = new Map(products.rows.map((p) => [p.id, p]));
      for (const id of ids) {
        const p = byId.get(id);
        if (!p || p.deleted_at || !p.is_active) throw new Error(`sql: product ${id} is not on sale`);
        // The fixture has none: a prescription check here would be work the gateway path never does.
        if (p.requires_prescription) throw new Error(`sql: product ${id} needs a prescription`);
      }
      const pricesIncludeTax = products.rows[0]?.include_tax ?? true;

      const sessions = await client.query<{ id: string }>(sql.session, [branch.id, ctx.cashierId]);
      if (sessions.rows.length !== 1) throw new Error(`sql: ${sessions.rows.length} open till sessions for the cashier`);
      const sessionId = sessions.rows[0]!.id;

      const lines = [...cart].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
      const locked = await client.query<{ product_id: string; controlled: boolean }>(sql.lock, [
        lines.map((l) => l.productId),
        lines.map(() => branch.id),
      ]);
      // createSale would also write controlled-register lines for these; the fixture has none.
      if (locked.rows.some((r) => r.controlled)) throw new Error('sql: controlled products are not part of this bench');
      const batches = await client.query<BatchRow>(sql.batches, [branch.id, lines.map((l) => l.productId), today]);

      const plan: { line: CartLine; batch: BatchRow; take: number }[] = [];
      for (const line of lines) {
        let remaining = line.quantity;
        for (const batch of batches.rows) {
          if (remaining === 0) break;
          if (batch.product_id !== line.productId) continue;
          const take = Math.min(batch.available, remaining);
          plan.push({ line, batch, take });
          remaining -= take;
        }
        if (remaining > 0) throw new Error(`sql: insufficient stock of ${line.productId}`);
      }
      const moved = await client.query(sql.moves, [
        plan.map((p) => p.batch.id),
        plan.map((p) => p.line.productId),
        plan.map((p) => -p.take),
        plan.map((_, i) => i),
        branch.id,
        saleId,
        ctx.cashierId,
      ]);
      if (moved.rowCount !== plan.length) throw new Error('sql: not enough stock in a batch');
      const change = new Map<string, number>();
      for (const p of plan) change.set(p.line.productId, (change.get(p.line.productId) ?? 0) - p.take);
      await client.query(sql.lowStock, [
        branch.id,
        lines.map((l) => l.productId),
        today,
        JSON.stringify({
          serviceName: 'pos',
          data: { branchId: branch.id, types: ['SALE'], reference: null, referenceId: saleId, products: [...change].map(([productId, quantity]) => ({ productId, quantity })) },
          metadata,
        }),
      ]);

      // VAT per line, half-up, contained in the price or added to it as the tenant prices.
      const priced = plan.map((p) => {
        const product = byId.get(p.line.productId) as ProductRow;
        const rateText = product.tax_rate;
        if (rateText === null) throw new Error(`sql: no VAT rate in force for ${product.tax_category}`);
        const rate = new Money(rateText);
        const unitPrice = product.branch_price ?? p.batch.selling_price;
        const total = ngwee(new Money(unitPrice).times(p.take));
        const taxAmount = pricesIncludeTax ? ngwee(total.times(rate).div(rate.plus(1))) : ngwee(total.times(rate));
        return { p, unitPrice, category: product.tax_category, rate: rateText, total, taxAmount };
      });
      const subtotal = priced.reduce((s, l) => s.plus(l.total), new Money(0));
      const taxTotal = priced.reduce((s, l) => s.plus(l.taxAmount), new Money(0));
      const total = pricesIncludeTax ? subtotal : subtotal.plus(taxTotal);

      await client.query(sql.sale, [
        saleId,
        branch.id,
        sessionId,
        ctx.cashierId,
        money(subtotal),
        money(taxTotal),
        money(total),
        pricesIncludeTax,
        priced.map((l) => l.p.line.productId),
        priced.map((l) => l.p.batch.id),
        priced.map((l) => l.p.batch.batch_number),
        priced.map((l) => l.p.take),
        priced.map((l) => l.unitPrice),
        priced.map((l) => l.category),
        priced.map((l) => l.rate),
        priced.map((l) => money(l.taxAmount)),
        priced.map((l) => money(l.total)),
      ]);
      const numbered = await client.query<{ sale_number: string }>(sql.number, [
        saleId,
        branch.code,
        JSON.stringify({
          serviceName: 'pos',
          data: { saleId, saleNumber: null, branchId: branch.id, totalAmount: money(total), items: plan.map((p) => ({ productId: p.line.productId, quantity: p.take })) },
          metadata,
        }),
      ]);
      if (numbered.rows.length !== 1) throw new Error(`sql: sale ${saleId} was not numbered`);
      return saleId;
    });
  };
}

interface CreateSaleData {
  createSale: {
    id: string;
    saleNumber: string;
    totalAmount: string;
    items: { quantity: number; unitPrice: string; lineTotal: string; batchNumber: string; product: { id: string } | null }[];
  } | null;
}

/** Sends CreateSale once with a fresh cart and key; throws unless the answer has the sale, every cart line and no errors. */
function gatewayCheckout(url: URL, token: string, agent: http.Agent, branchId: string, productIds: string[]): Checkout {
  const query = operation('CreateSale');
  const headers = { authorization: `Bearer ${token}` };
  return async () => {
    const input = { branchId, items: randomCart(productIds), paymentMethod: 'CASH', idempotencyKey: randomUUID() };
    const body = JSON.stringify({ operationName: 'CreateSale', query, variables: { input } });
    const r = await postGraphql<CreateSaleData>('gateway', url, agent, headers, body);
    const sale = r.parsed.data?.createSale;
    if (r.status !== 200 || r.parsed.errors?.length || !sale?.id || !Array.isArray(sale.items) || sale.items.length < CART_LINES) {
      throw new Error(`gateway: HTTP ${r.status}, bad answer: ${r.text.slice(0, 1000)}`);
    }
    return sale.id;
  };
}

interface SaleCheck {
  sale_number: string;
  subtotal: string;
  tax_amount: string;
  total_amount: string;
  prices_include_tax: boolean;
  payment_status: string;
  items: number;
  line_sum: string;
  tax_sum: string;
  units: number;
  moves: number;
  moved: number;
  move_refs: number;
  bad_line: number;
  bad_tax: number;
  bad_price: number;
  paid: string;
  events: number;
  updates: number;
  session_pays: number;
  keys: number;
  low_state: number;
}

/**
 * Reads one sale back with everything a checkout must leave behind and throws unless it all adds
 * up: lines, VAT, ledger rows, payment, event and idempotency key. Run on a sale from each path, so
 * the floor is held to what the API writes, not only to the table constraints.
 */
async function checkSale(pool: Pool, schema: string, path: PathName, saleId: string): Promise<SaleCheck> {
  const t = tableIn(schema);
  const { rows } = await pool.query<SaleCheck>(
    `SELECT s.sale_number, s.subtotal::text, s.tax_amount::text, s.total_amount::text, s.prices_include_tax, s.payment_status,
       (SELECT count(*)::int FROM ${t('sale_items')} i WHERE i.sale_id = s.id) AS items,
       (SELECT coalesce(sum(line_total), 0)::text FROM ${t('sale_items')} i WHERE i.sale_id = s.id) AS line_sum,
       (SELECT coalesce(sum(tax_amount), 0)::text FROM ${t('sale_items')} i WHERE i.sale_id = s.id) AS tax_sum,
       (SELECT coalesce(sum(quantity), 0)::int FROM ${t('sale_items')} i WHERE i.sale_id = s.id) AS units,
       (SELECT count(*)::int FROM ${t('stock_movements')} m WHERE m.reference_id = s.id AND m.type = 'SALE') AS moves,
       (SELECT coalesce(-sum(quantity), 0)::int FROM ${t('stock_movements')} m WHERE m.reference_id = s.id) AS moved,
       (SELECT count(*)::int FROM ${t('stock_movements')} m WHERE m.reference_id = s.id AND m.reference IS NULL AND m.user_id = s.cashier_id) AS move_refs,
       (SELECT count(*)::int FROM ${t('sale_items')} i WHERE i.sale_id = s.id AND i.line_total <> round(i.unit_price * i.quantity, 2)) AS bad_line,
       (SELECT count(*)::int FROM ${t('sale_items')} i WHERE i.sale_id = s.id AND i.tax_amount <> CASE WHEN s.prices_include_tax
          THEN round(i.line_total * i.tax_rate / (1 + i.tax_rate), 2) ELSE round(i.line_total * i.tax_rate, 2) END) AS bad_tax,
       (SELECT count(*)::int FROM ${t('sale_items')} i JOIN ${t('inventory_batches')} b ON b.id = i.batch_id
          WHERE i.sale_id = s.id AND (i.unit_price <> b.selling_price OR i.batch_number <> b.batch_number OR i.product_id <> b.product_id)) AS bad_price,
       (SELECT coalesce(sum(amount), 0)::text FROM ${t('payments')} p WHERE p.sale_id = s.id AND p.status = 'COMPLETED') AS paid,
       (SELECT count(*)::int FROM ${t('outbox')} o WHERE o.aggregate_id = s.id AND o.event_type = 'sale.completed'
          AND o.payload #>> '{data,saleNumber}' = s.sale_number) AS events,
       (SELECT count(*)::int FROM ${t('outbox')} o WHERE o.event_type = 'inventory.updated' AND o.payload #>> '{data,referenceId}' = s.id::text) AS updates,
       (SELECT count(*)::int FROM ${t('payments')} p WHERE p.sale_id = s.id AND p.till_session_id = s.till_session_id) AS session_pays,
       (SELECT count(*)::int FROM ${t('idempotency_keys')} k WHERE k.scope = 'createSale' AND k.resource_id = s.id) AS keys,
       (SELECT count(*)::int FROM ${t('low_stock_state')} l JOIN ${t('sale_items')} i ON i.product_id = l.product_id AND l.branch_id = s.branch_id
          WHERE i.sale_id = s.id) AS low_state
     FROM ${t('sales')} s WHERE s.id = $1::uuid`,
    [saleId],
  );
  const c = rows[0];
  if (!c) throw new Error(`verification: ${path} sale ${saleId} not found`);
  const fail = (what: string) => new Error(`verification: ${path} sale ${c.sale_number}: ${what}: ${JSON.stringify(c)}`);
  if (c.items < CART_LINES) throw fail(`${c.items} items, expected at least ${CART_LINES}`);
  if (c.line_sum !== c.subtotal) throw fail('lines do not add up to the subtotal');
  if (c.tax_sum !== c.tax_amount) throw fail('line VAT does not add up to the sale VAT');
  const expectedTotal = c.prices_include_tax ? c.subtotal : new Money(c.subtotal).plus(c.tax_amount).toFixed(2);
  if (c.total_amount !== expectedTotal) throw fail('total is not subtotal (+ VAT when prices exclude it)');
  if (c.bad_line || c.bad_tax || c.bad_price) throw fail('a line is mispriced');
  if (c.moves !== c.items || c.moved !== c.units || c.move_refs !== c.moves) throw fail('ledger rows do not match the lines');
  if (c.payment_status !== 'PAID' || c.paid !== c.total_amount) throw fail('not paid in full');
  if (!/^[A-Z0-9]+-\d{6,}$/.test(c.sale_number)) throw fail('not numbered');
  if (c.events !== 1) throw fail(`${c.events} sale.completed events carrying the sale number`);
  if (c.updates !== 1) throw fail(`${c.updates} inventory.updated events naming the sale`);
  if (c.session_pays !== 1) throw fail('the payment is not booked to the sale\'s till session');
  if (c.keys !== 1) throw fail('idempotency key not settled on the sale');
  if (c.low_state !== c.items) throw fail('low-stock state not refreshed for every line');
  return c;
}

/** One statement of a checkout's transaction as the client saw it: what it touched and how long it took to answer. */
interface TracedStatement {
  label: string;
  ms: number;
}

/** `INSERT sales,sale_items,payments`: the statement's first keyword and the tables it names, to compare the two paths' statements. */
function statementLabel(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const keyword = (/^\w+/.exec(flat)?.[0] ?? '?').toUpperCase();
  if (keyword === 'BEGIN' || keyword === 'COMMIT' || keyword === 'ROLLBACK') return keyword;
  const names = [...flat.matchAll(/\b(?:FROM|INTO|UPDATE|JOIN)\s+(?:"?\w+"?\.)?"?([a-z_]+)"?/gi)].map((m) => m[1]);
  return `${keyword} ${[...new Set(names)].join(',')}`;
}

/**
 * `--trace N`: N floor checkouts one after another, every statement of each checkout's
 * transaction timed at the client (from sending it to its answer: round trip, parse, plan and
 * execution, and any lock wait), by wrapping pg's Client.query for the duration. A transaction
 * counts as a checkout's when it claims an idempotency key. Prints the statements in order with
 * their median time and the transaction's median wall time, so the floor's cost can be read
 * statement by statement. (Prisma's queries do not pass through the wrapper the same way, so
 * the gateway path is not traced; its statements are the floor's, see bench/README.md.)
 */
async function traceStatements(checkouts: Record<PathName, Checkout>, n: number): Promise<void> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const open = new WeakMap<object, { started: number; statements: TracedStatement[] }>();
  let done: { ms: number; statements: TracedStatement[] }[] = [];
  const record = (client: object, text: string, started: number) => {
    const label = statementLabel(text);
    const ms = performance.now() - started;
    if (label === 'BEGIN') open.set(client, { started, statements: [{ label, ms }] });
    const tx = open.get(client);
    if (!tx) return;
    if (label !== 'BEGIN') tx.statements.push({ label, ms });
    if (label === 'COMMIT' || label === 'ROLLBACK') {
      open.delete(client);
      if (tx.statements.some((st) => st.label.includes('idempotency_keys'))) done.push({ ms: performance.now() - tx.started, statements: tx.statements });
    }
  };
  proto.query = function (this: object, ...args: unknown[]) {
    const config = args[0];
    const text = typeof config === 'string' ? config : ((config as { text?: string } | null)?.text ?? '');
    const started = performance.now();
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (...cbArgs: unknown[]) => {
        record(this, text, started);
        return (callback as (...a: unknown[]) => unknown)(...cbArgs);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        () => record(this, text, started),
        () => record(this, text, started),
      );
    }
    return result;
  };
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  try {
    for (const name of ['sql'] as const) {
      done = [];
      for (let i = 0; i < n; i++) await checkouts[name]();
      if (done.length !== n) throw new Error(`trace: ${done.length} checkout transactions of ${name} seen, expected ${n}`);
      const shape = done[0]!.statements.map((st) => st.label);
      const same = done.every((t) => t.statements.length === shape.length && t.statements.every((st, i) => st.label === shape[i]));
      if (!same) throw new Error(`trace: the ${name} path's checkouts did not all run the same statements`);
      const wall = median(done.map((t) => t.ms));
      const perStatement = shape.map((label, i) => ({ label, ms: median(done.map((t) => t.statements[i]!.ms)) }));
      const inStatements = perStatement.reduce((sum, st) => sum + st.ms, 0);
      out(`${name}: ${shape.length} round trips per checkout transaction (BEGIN and COMMIT included), median of ${n} sales one at a time`);
      perStatement.forEach((st, i) => out(`  ${String(i + 1).padStart(2)}. ${st.label.padEnd(70)} ${st.ms.toFixed(2).padStart(7)} ms`));
      out(`  transaction wall time ${wall.toFixed(2)} ms, of which in statements ${inStatements.toFixed(2)} ms, between them (client) ${(wall - inStatements).toFixed(2)} ms`);
      out('');
    }
  } finally {
    proto.query = original;
  }
}

async function main(): Promise<void> {
  const opts = options();
  const maxConcurrency = Math.max(...opts.concurrency);
  outHeader(`sales per path per concurrency: ${opts.requests}, warm-up: ${opts.warmup} per path, block: ${opts.block}, products: ${opts.products}, ${CART_LINES} lines per cart`);

  await withPlatform('checkout', async (p, own) => {
    const tenant = await createTenant(p, { branchCount: 1 });
    const branch = tenant.branches[0];
    if (!branch) throw new Error('createTenant returned no branch');
    const cashier = await createUser(p, tenant, 'CASHIER', [branch.id]);
    // Every sale is booked to the seller's open till session.
    await openTillSession(p, tenant, cashier.token, branch.id);
    const schema = tenantSchemaName(tenant.subdomain);
    const productIds = await seedStock(p.db.pool, schema, branch.id, opts.products);
    // The floor dates the sale as createSale does: by the branch's own calendar.
    const tz = await p.db.pool.query<{ timezone: string }>('SELECT timezone FROM shared.branches WHERE id = $1::uuid', [branch.id]);
    const timezone = tz.rows[0]?.timezone;
    if (!timezone) throw new Error(`branch ${branch.id} not found in shared.branches`);

    // Its own pool, sized to the highest concurrency, so the floor is never queued behind the
    // owner pool's four connections or behind the platform's own queries.
    const sqlPool = own.pool(maxConcurrency);
    const agent = own.agent(maxConcurrency);

    // Every sale either path creates, to count them in the database afterwards.
    const created: Record<PathName, string[]> = { gateway: [], sql: [] };
    const recording = (name: PathName, checkout: Checkout): Checkout => async () => {
      const id = await checkout();
      created[name].push(id);
      return id;
    };
    const checkouts: Record<PathName, Checkout> = {
      gateway: recording('gateway', gatewayCheckout(new URL(p.url), cashier.token, agent, branch.id, productIds)),
      sql: recording(
        'sql',
        sqlCheckout(sqlPool, { schema, tenantId: tenant.id, cashierId: cashier.id, branch: { id: branch.id, code: branch.code, timezone } }, productIds),
      ),
    };

    const first = {
      gateway: await checkSale(p.db.pool, schema, 'gateway', await checkouts.gateway()),
      sql: await checkSale(p.db.pool, schema, 'sql', await checkouts.sql()),
    };
    const batches = await p.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteIdent(schema)}.inventory_batches WHERE branch_id = $1::uuid`, [branch.id]);
    out(
      `fixture: branch ${branch.code}, ${productIds.length} products, ${batches.rows[0]?.n ?? 0} batches of ${UNITS_PER_BATCH} units; ` +
        `first sales: gateway ${first.gateway.sale_number} (${first.gateway.items} items, ${first.gateway.total_amount}), ` +
        `sql ${first.sql.sale_number} (${first.sql.items} items, ${first.sql.total_amount}), both consistent`,
    );
    out('');

    if (opts.trace > 0) {
      await traceStatements(checkouts, opts.trace);
      return;
    }

    const timedCheckouts: Record<PathName, Timed> = { gateway: timed(checkouts.gateway), sql: timed(checkouts.sql) };
    const results = await measure(PATHS, timedCheckouts, opts);

    outStatsTable(PATHS, results, { count: 'sales', rate: 'sales/s', rateDigits: 1, widths: [12, 6, 8, 8, 8, 8] });
    out('');
    for (const { concurrency, r } of results) {
      const g = r.gateway;
      const s = r.sql;
      out(`concurrency ${concurrency}: gateway/sql p50 = ${(g.p50 / s.p50).toFixed(2)}x, p95 = ${(g.p95 / s.p95).toFixed(2)}x, throughput = ${(g.rps / s.rps).toFixed(2)}x`);
    }

    out('');
    const t = tableIn(schema);
    const off = await p.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${t('inventory_batches')} b
       WHERE b.quantity_on_hand <> coalesce((SELECT sum(m.quantity) FROM ${t('stock_movements')} m WHERE m.batch_id = b.id), 0)`,
    );
    const expected = 1 + opts.warmup + opts.requests * opts.concurrency.length;
    const counts: string[] = [];
    for (const name of PATHS) {
      const c = await p.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t('sales')} WHERE id = ANY($1::uuid[])`, [created[name]]);
      const n = c.rows[0]?.n ?? 0;
      if (n !== expected) throw new Error(`after the run: ${n} ${name} sales in the database, expected ${expected}`);
      counts.push(`${name} ${n}`);
    }
    const offBatches = off.rows[0]?.n ?? 0;
    out(`sales created (verification + warm-up + measured): ${counts.join(', ')}; ledger: ${offBatches} batches whose on hand differs from the sum of their movements`);
    if (offBatches !== 0) throw new Error(`after the run: ledger invariant broken for ${offBatches} batches`);
  });
}

runMain('checkout', main);
