import Decimal from 'decimal.js';
import type { Pool } from 'pg';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@umi/kit';
import { bindSql, inTransaction, pgExecutor, sql, sharedTables, tables, type SqlRunner } from '@umi/db';
import { outboxPayload, type NewEvent } from '@umi/events';
import { nextNumber } from '@umi/ledger';
import { DEFAULT_ITEM_CODES, DEFAULT_VAT_CATEGORIES, STOCK_IO_TYPE, REGISTRANT } from '../fiscal/codes';
import { itemFingerprint, itemPayload, paymentTypeOf, saveSalesPayload, vsdcDateTime, type DeviceIdentity, type FiscalItem, type FiscalLine } from '../fiscal/invoice';
import { readFiscalSettings, type FiscalSettings } from '../fiscal/settings';
import type { PaymentMethod, TaxCategory } from '@umi/supply';

/**
 * The fiscal worker: sends the fiscal queue (fiscal_documents) of every tenant's branches to their
 * VSDC devices after the sales and refunds that wrote it committed.
 *
 * - In order per branch device: a branch's next document goes only after the one before it got an
 *   answer; a failure stops the branch's queue until the retry (exponential backoff) succeeds.
 * - One sender per device: a session advisory lock per (tenant, branch), held over the HTTP call,
 *   so two workers (or two processes) never send the same device's queue at once; a worker that
 *   dies drops its connection and with it the lock.
 * - Idempotent by our invoice number: the payload is frozen (stored) before the first send; after a
 *   crash between the VSDC's answer and our storing it, the same invoice goes again under the same
 *   cisInvcNo and the VSDC answers the receipt it already gave (never a second receipt number).
 * - Then the branch's items (saveItem/updateItem for products created or changed) and its stock
 *   (saveStockItems per stock movement event, saveStockMaster for the products they touched).
 */
export interface FiscalWorkerOptions {
  /** Application-role pool; the worker holds one connection per device it is sending for. */
  pool: Pool;
  logger: Logger;
  /** How often the queues are looked at (ms). */
  pollMs?: number;
  /** First retry delay after a failure (ms); doubles per attempt up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Timeout of one VSDC call (ms). */
  requestTimeoutMs?: number;
  /**
   * Stock movements younger than this are left for the next cycle: a movement written by a
   * transaction that commits later than a newer one's must not be skipped by the cursor.
   */
  stockSyncLagMs?: number;
  /** Registry for the `fiscal_backlog` gauges. */
  registry?: Registry;
  /** Test hooks: called with the document after the VSDC answered and before the answer is stored. */
  hooks?: { afterAnswer?(doc: { invoiceNumber: string; branchId: string }): Promise<void> | void };
}

interface Answer {
  resultCd: string;
  resultMsg: string;
  data?: Record<string, unknown> | null;
}

/** A failure worth retrying: the VSDC could not be reached or did not answer properly. */
class TransientError extends Error {}

/** Result codes that say "try again later" rather than "this invoice is wrong". */
const TRANSIENT_CODES = new Set(['999', '901']);

async function callVsdc(baseUrl: string, path: string, body: unknown, timeoutMs: number): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl.replace(/\/+$/, '')}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new TransientError(`${path}: ${(err as Error).message}`);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new TransientError(`${path}: HTTP ${res.status}`);
  let json: Answer;
  try {
    json = JSON.parse(text) as Answer;
  } catch {
    throw new TransientError(`${path}: answer is not JSON`);
  }
  if (typeof json.resultCd !== 'string') throw new TransientError(`${path}: answer has no resultCd`);
  return json;
}

interface DeviceRow {
  branch_id: string;
  bhf_id: string;
  device_serial: string;
  vsdc_url: string;
  initialised_at: Date | null;
  backlog_alerted_seq: string | null;
}

/** What is stored before the first send: the request exactly as sent, and the products its lines are. */
interface Frozen {
  request: Record<string, unknown>;
  productIds: string[];
}

interface DocRow {
  id: string;
  seq: string;
  kind: 'SALE' | 'CREDIT_NOTE';
  sale_id: string;
  refund_id: string | null;
  invoice_number: string;
  reason_code: string | null;
  status: string;
  attempts: number;
  due: boolean;
  payload: Record<string, unknown> | null;
}

export function startFiscalWorker(opts: FiscalWorkerOptions) {
  const { pool, logger } = opts;
  const pollMs = opts.pollMs ?? 1_000;
  const retryBaseMs = opts.retryBaseMs ?? 2_000;
  const retryMaxMs = opts.retryMaxMs ?? 5 * 60_000;
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const stockLagMs = opts.stockSyncLagMs ?? 5_000;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  /** Devices whose last cycle failed outside a document send, and when to try them again. */
  const deviceBackoff = new Map<string, { failures: number; until: number }>();

  const backlog = new Gauge({ name: 'fiscal_backlog', help: 'Invoices and credit notes not yet fiscalised, per tenant and branch', labelNames: ['tenant', 'branch'] as const, registers: opts.registry ? [opts.registry] : [] });
  const oldest = new Gauge({
    name: 'fiscal_backlog_oldest_seconds',
    help: 'Age of the oldest invoice or credit note not yet fiscalised, per tenant and branch (0 when none)',
    labelNames: ['tenant', 'branch'] as const,
    registers: opts.registry ? [opts.registry] : [],
  });

  async function tenants(): Promise<{ id: string; schema: string }[]> {
    const c = await pool.connect();
    try {
      return await inTransaction(c, async () => {
        await c.query(`SELECT set_config('app.platform', 'on', true)`);
        const rows = await bindSql(pgExecutor(c), null).query<{ id: string; schema_name: string }>(
          sql`SELECT id::text, schema_name FROM ${sharedTables.tenants} WHERE deleted_at IS NULL AND status = 'active'`,
        );
        return rows.map((r) => ({ id: r.id, schema: r.schema_name }));
      });
    } finally {
      c.release();
    }
  }

  async function cycle(): Promise<void> {
    for (const t of await tenants()) {
      if (stopped) return;
      const db = bindSql(pgExecutor(pool), t.schema);
      const devices = await db.query<DeviceRow>(
        sql`SELECT branch_id::text, bhf_id, device_serial, vsdc_url, initialised_at, backlog_alerted_seq::text FROM ${tables.fiscal_devices} ORDER BY branch_id`,
      );
      if (devices.length === 0) continue;
      const settings = await readFiscalSettings(db);
      for (const d of devices) {
        if (stopped) return;
        await runDevice(t, d, settings);
        await watchBacklog(t, db, d, settings).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'fiscal backlog check failed'));
      }
    }
  }

  /** Sends one device's queue under its advisory lock; another worker holding it means nothing to do here. */
  async function runDevice(t: { id: string; schema: string }, d: DeviceRow, settings: FiscalSettings): Promise<void> {
    const client = await pool.connect();
    let broken = false;
    const key = `umi-fiscal:${t.schema}:${d.branch_id}`;
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [key]);
      if (!rows[0]?.ok) return;
      try {
        await sendDevice(bindSql(pgExecutor(client), t.schema), d, settings);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      }
    } catch (err) {
      // An unexpected failure (the database away, a test hook "killing" the worker): the
      // connection goes, with any lock it still held, and the queue is retried on a later cycle.
      broken = true;
      logger.warn({ err: (err as Error).message, branchId: d.branch_id }, 'fiscal worker: device cycle failed');
    } finally {
      client.release(broken);
    }
  }

  async function sendDevice(db: SqlRunner, d: DeviceRow, settings: FiscalSettings): Promise<void> {
    if (!settings.tpin) return; // not configured yet: the backlog shows it
    const device: DeviceIdentity = { tpin: settings.tpin, bhfId: d.bhf_id, dvcSrlNo: d.device_serial };
    const key = `${d.branch_id}:${d.vsdc_url}`;
    const held = deviceBackoff.get(key);
    if (held && held.until > Date.now()) return;
    try {
      if (!d.initialised_at) await initialise(db, d, device);
      await sendQueue(db, d, device, settings);
      await syncItems(db, d, device, settings);
      await syncStock(db, d, device, settings);
      deviceBackoff.delete(key);
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      // The device itself is unreachable (initialisation, items, stock): back off as for a document.
      const failures = (held?.failures ?? 0) + 1;
      deviceBackoff.set(key, { failures, until: Date.now() + backoff(failures) });
      logger.info({ err: err.message, branchId: d.branch_id, retryInMs: backoff(failures) }, 'fiscal worker: VSDC unavailable, will retry');
    }
  }

  async function initialise(db: SqlRunner, d: DeviceRow, device: DeviceIdentity): Promise<void> {
    const a = await callVsdc(d.vsdc_url, '/initializer/selectInitInfo', device, timeoutMs);
    if (a.resultCd !== '000' && a.resultCd !== '902') throw new TransientError(`selectInitInfo: ${a.resultCd} ${a.resultMsg}`);
    const info = (a.data?.info ?? {}) as { sdcId?: string; mrcNo?: string };
    await db.execute(
      sql`UPDATE ${tables.fiscal_devices} SET initialised_at = now(), sdc_id = coalesce(${info.sdcId ?? null}, sdc_id), mrc_number = coalesce(${info.mrcNo ?? null}, mrc_number)
          WHERE branch_id = ${d.branch_id}::uuid`,
    );
  }

  function backoff(attempts: number): number {
    return Math.min(retryMaxMs, retryBaseMs * 2 ** Math.max(0, attempts - 1));
  }

  async function sendQueue(db: SqlRunner, d: DeviceRow, device: DeviceIdentity, settings: FiscalSettings): Promise<void> {
    while (!stopped) {
      const doc = await db.maybeOne<DocRow>(
        // ORDER BY the column, not the text output of the same name (which would put 10 before 2).
        sql`SELECT d.id::text, d.seq::text, d.kind, d.sale_id::text, d.refund_id::text, d.invoice_number, d.reason_code, d.status, d.attempts, d.next_attempt_at <= now() AS due, d.payload
            FROM ${tables.fiscal_documents} d WHERE d.branch_id = ${d.branch_id}::uuid AND d.status <> 'FISCALISED' ORDER BY d.seq LIMIT 1`,
      );
      // Strictly in order: a rejected or waiting document holds back every later one of its device.
      if (!doc || doc.status === 'REJECTED' || !doc.due) return;
      let frozen = doc.payload as Frozen | null;
      if (!frozen) {
        frozen = await buildPayload(db, d, device, settings, doc);
        if (!frozen) return;
      } else {
        // A resend: the items it names must still be registered as it names them.
        await registerItems(db, d, device, await fiscalItems(db, d.branch_id, settings, frozen.productIds));
      }
      await db.execute(
        sql`UPDATE ${tables.fiscal_documents} SET payload = coalesce(payload, ${JSON.stringify(frozen)}::jsonb), attempts = attempts + 1 WHERE id = ${doc.id}::uuid`,
      );
      let answer: Answer;
      try {
        answer = await callVsdc(d.vsdc_url, '/trnsSales/saveSales', frozen.request, timeoutMs);
        if (answer.resultCd === '901') {
          // The device forgot its initialisation (reinstalled): initialise again before the retry.
          await db.execute(sql`UPDATE ${tables.fiscal_devices} SET initialised_at = NULL WHERE branch_id = ${d.branch_id}::uuid`);
        }
        if (TRANSIENT_CODES.has(answer.resultCd)) throw new TransientError(`saveSales: ${answer.resultCd} ${answer.resultMsg}`);
      } catch (err) {
        if (!(err instanceof TransientError)) throw err;
        const wait = backoff(doc.attempts + 1);
        await db.execute(
          sql`UPDATE ${tables.fiscal_documents} SET last_error = ${err.message}, next_attempt_at = now() + make_interval(secs => ${wait / 1000}) WHERE id = ${doc.id}::uuid`,
        );
        logger.info({ invoice: doc.invoice_number, attempts: doc.attempts + 1, retryInMs: wait, err: err.message }, 'fiscal worker: send failed, will retry');
        return;
      }
      await opts.hooks?.afterAnswer?.({ invoiceNumber: doc.invoice_number, branchId: d.branch_id });
      if (answer.resultCd !== '000') {
        await db.execute(
          sql`UPDATE ${tables.fiscal_documents} SET status = 'REJECTED', last_error = ${`${answer.resultCd} ${answer.resultMsg}`} WHERE id = ${doc.id}::uuid`,
        );
        logger.error({ invoice: doc.invoice_number, resultCd: answer.resultCd, resultMsg: answer.resultMsg }, 'fiscal worker: the VSDC rejected an invoice; the branch queue waits for it');
        return;
      }
      const r = (answer.data ?? {}) as { rcptNo?: number; intrlData?: string; rcptSign?: string; vsdcRcptPbctDate?: string; sdcId?: string; mrcNo?: string; qrCodeUrl?: string };
      if (typeof r.rcptNo !== 'number') throw new TransientError('saveSales: 000 without a receipt number');
      await db.execute(
        sql`WITH doc AS (
              UPDATE ${tables.fiscal_documents} SET status = 'FISCALISED', receipt_number = ${r.rcptNo}, internal_data = ${r.intrlData ?? null}, signature = ${r.rcptSign ?? null},
                     sdc_id = ${r.sdcId ?? null}, mrc_number = ${r.mrcNo ?? null}, vsdc_time = ${r.vsdcRcptPbctDate ?? null}, qr_content = ${r.qrCodeUrl ?? null},
                     fiscalised_at = now(), last_error = NULL
              WHERE id = ${doc.id}::uuid RETURNING sale_id, kind
            )
            UPDATE ${tables.sales} s SET zra_receipt_number = ${String(r.rcptNo)} FROM doc WHERE s.id = doc.sale_id AND doc.kind = 'SALE'`,
      );
    }
  }

  /** The products as the VSDC knows them; a product without ZRA codes gets the defaults (and a generated item code) now. */
  async function fiscalItems(db: SqlRunner, branchId: string, settings: FiscalSettings, productIds: string[]): Promise<Map<string, FiscalItem>> {
    if (productIds.length === 0) return new Map();
    const missing = await db.query<{ id: string }>(
      sql`SELECT p.id::text FROM ${tables.products} p WHERE p.id = ANY(${productIds}::uuid[])
          AND NOT EXISTS (SELECT 1 FROM ${tables.product_fiscal_codes} c WHERE c.product_id = p.id)`,
    );
    for (const m of missing) {
      const n = await nextNumber({ sql: db }, 'zra-item-code');
      const code = `ZM2${DEFAULT_ITEM_CODES.packagingUnit}${DEFAULT_ITEM_CODES.quantityUnit}${String(n).padStart(7, '0')}`;
      await db.execute(
        sql`INSERT INTO ${tables.product_fiscal_codes} (product_id, item_code, item_class_code, packaging_unit, quantity_unit, origin_country)
            VALUES (${m.id}::uuid, ${code}, ${DEFAULT_ITEM_CODES.itemClassCode}, ${DEFAULT_ITEM_CODES.packagingUnit}, ${DEFAULT_ITEM_CODES.quantityUnit}, ${DEFAULT_ITEM_CODES.originCountry})
            ON CONFLICT (product_id) DO NOTHING`,
      );
    }
    const rows = await db.query<{
      id: string;
      name: string;
      tax_category: TaxCategory;
      active: boolean;
      item_code: string;
      item_class_code: string;
      packaging_unit: string;
      quantity_unit: string;
      origin_country: string;
      price: string | null;
    }>(
      sql`SELECT p.id::text, p.name, p.tax_category, (p.is_active AND p.deleted_at IS NULL) AS active, c.item_code, c.item_class_code, c.packaging_unit, c.quantity_unit,
                 c.origin_country, s.selling_price::text AS price
          FROM ${tables.products} p JOIN ${tables.product_fiscal_codes} c ON c.product_id = p.id
          LEFT JOIN ${tables.product_branch_settings} s ON s.product_id = p.id AND s.branch_id = ${branchId}::uuid
          WHERE p.id = ANY(${productIds}::uuid[])`,
    );
    return new Map(
      rows.map((r) => [
        r.id,
        {
          itemCode: r.item_code,
          itemClassCode: r.item_class_code,
          packagingUnit: r.packaging_unit,
          quantityUnit: r.quantity_unit,
          originCountry: r.origin_country,
          name: r.name,
          vatCategory: settings.vatCategories[r.tax_category] ?? DEFAULT_VAT_CATEGORIES[r.tax_category],
          active: r.active,
          defaultPrice: r.price ?? '0',
        },
      ]),
    );
  }

  /** saveItem for products the device does not know, updateItem for those whose registered fields changed. */
  async function registerItems(db: SqlRunner, d: DeviceRow, device: DeviceIdentity, items: Map<string, FiscalItem>): Promise<void> {
    if (items.size === 0) return;
    const regs = await db.query<{ product_id: string; item_code: string; fingerprint: string }>(
      sql`SELECT product_id::text, item_code, fingerprint FROM ${tables.fiscal_item_registrations}
          WHERE branch_id = ${d.branch_id}::uuid AND product_id = ANY(${[...items.keys()]}::uuid[])`,
    );
    const byProduct = new Map(regs.map((r) => [r.product_id, r]));
    for (const [productId, item] of items) {
      const fp = itemFingerprint(item);
      const reg = byProduct.get(productId);
      if (reg && reg.fingerprint === fp) continue;
      const update = reg !== undefined && reg.item_code === item.itemCode;
      let a = await callVsdc(d.vsdc_url, update ? '/items/updateItem' : '/items/saveItem', itemPayload(device, item, update), timeoutMs);
      // 994: the device already has the code (registered before our record of it); 910 on update: it does not.
      if (!update && a.resultCd === '994') a = await callVsdc(d.vsdc_url, '/items/updateItem', itemPayload(device, item, true), timeoutMs);
      else if (update && a.resultCd === '910' && /unknown|not registered|no item/i.test(a.resultMsg)) {
        a = await callVsdc(d.vsdc_url, '/items/saveItem', itemPayload(device, item, false), timeoutMs);
      }
      if (a.resultCd !== '000') throw new TransientError(`item ${item.itemCode}: ${a.resultCd} ${a.resultMsg}`);
      await db.execute(
        sql`INSERT INTO ${tables.fiscal_item_registrations} (branch_id, product_id, item_code, fingerprint) VALUES (${d.branch_id}::uuid, ${productId}::uuid, ${item.itemCode}, ${fp})
            ON CONFLICT (branch_id, product_id) DO UPDATE SET item_code = EXCLUDED.item_code, fingerprint = EXCLUDED.fingerprint, updated_at = now()`,
      );
    }
  }

  /** Registers products created or changed since their registration on this device (a few per cycle). */
  async function syncItems(db: SqlRunner, d: DeviceRow, device: DeviceIdentity, settings: FiscalSettings): Promise<void> {
    const changed = await db.query<{ id: string }>(
      sql`SELECT p.id::text FROM ${tables.products} p
          LEFT JOIN ${tables.product_fiscal_codes} c ON c.product_id = p.id
          LEFT JOIN ${tables.fiscal_item_registrations} r ON r.product_id = p.id AND r.branch_id = ${d.branch_id}::uuid
          WHERE (r.product_id IS NULL AND p.deleted_at IS NULL AND p.is_active)
             OR p.updated_at > r.updated_at OR c.updated_at > r.updated_at OR ${settings.updatedAt}::timestamptz > r.updated_at
          ORDER BY p.updated_at LIMIT 50`,
    );
    if (changed.length > 0) await registerItems(db, d, device, await fiscalItems(db, d.branch_id, settings, changed.map((c) => c.id)));
  }

  /** The invoice or credit note of a queued document, its items registered first. */
  async function buildPayload(db: SqlRunner, d: DeviceRow, device: DeviceIdentity, settings: FiscalSettings, doc: DocRow): Promise<Frozen | null> {
    const sale = await db.one<{ created_at: Date; prices_include_tax: boolean; payment_method: PaymentMethod }>(
      sql`SELECT created_at, prices_include_tax, payment_method FROM ${tables.sales} WHERE id = ${doc.sale_id}::uuid`,
    );
    const payments = await db.query<{ method: PaymentMethod; amount: string }>(
      sql`SELECT method, amount::text FROM ${tables.payments} WHERE sale_id = ${doc.sale_id}::uuid AND status IN ('COMPLETED', 'REFUNDED') ORDER BY created_at, id`,
    );
    type LineRow = { product_id: string; quantity: number; unit_price: string; tax_rate: string; amount: string; tax_amount: string };
    let lines: LineRow[];
    let at: Date;
    let original: number | undefined;
    if (doc.kind === 'SALE') {
      at = sale.created_at;
      lines = await db.query<LineRow>(
        sql`SELECT product_id::text, quantity, unit_price::text, tax_rate::text, tax_amount::text,
                   (line_total - discount_amount + CASE WHEN ${sale.prices_include_tax} THEN 0 ELSE tax_amount END)::text AS amount
            FROM ${tables.sale_items} WHERE sale_id = ${doc.sale_id}::uuid ORDER BY product_id, batch_number, id`,
      );
    } else {
      const refund = await db.one<{ created_at: Date }>(sql`SELECT created_at FROM ${tables.refunds} WHERE id = ${doc.refund_id}::uuid`);
      at = refund.created_at;
      const org = await db.maybeOne<{ receipt_number: string | null }>(
        sql`SELECT receipt_number::text FROM ${tables.fiscal_documents} WHERE sale_id = ${doc.sale_id}::uuid AND kind = 'SALE'`,
      );
      if (!org?.receipt_number) return null; // the original goes first (lower seq); not answered yet
      original = Number(org.receipt_number);
      lines = await db.query<LineRow>(
        sql`SELECT i.product_id::text, ri.quantity, i.unit_price::text, i.tax_rate::text, ri.amount::text, ri.tax_amount::text
            FROM ${tables.refund_items} ri JOIN ${tables.sale_items} i ON i.id = ri.sale_item_id
            WHERE ri.refund_id = ${doc.refund_id}::uuid ORDER BY i.product_id, i.batch_number, i.id`,
      );
    }
    const items = await fiscalItems(db, d.branch_id, settings, [...new Set(lines.map((l) => l.product_id))]);
    await registerItems(db, d, device, items);
    const fiscalLines: FiscalLine[] = lines.map((l) => ({
      item: items.get(l.product_id)!,
      quantity: l.quantity,
      unitPrice: l.unit_price,
      taxRate: l.tax_rate,
      amount: l.amount,
      taxAmount: l.tax_amount,
    }));
    const request = saveSalesPayload({
      device,
      invoiceNumber: doc.invoice_number,
      type: doc.kind === 'SALE' ? 'S' : 'R',
      originalReceiptNumber: original,
      reasonCode: doc.reason_code ?? undefined,
      paymentCode: paymentTypeOf(payments, sale.payment_method),
      at,
      pricesIncludeTax: sale.prices_include_tax,
      lines: fiscalLines,
    });
    return { request, productIds: [...items.keys()] };
  }

  /**
   * Stock movements of the branch since the last sync, one saveStockItems per event (same type and
   * reference), then saveStockMaster with the stock on hand of the products they touched. Each
   * movement's sarNo is the device's next; a resend after a crash reuses it (idempotent by sarNo).
   */
  async function syncStock(db: SqlRunner, d: DeviceRow, device: DeviceIdentity, settings: FiscalSettings): Promise<void> {
    let cursor = await db.maybeOne<{ last_at: Date; last_id: string; last_sar_no: number }>(
      sql`SELECT last_at, last_id::text, last_sar_no FROM ${tables.fiscal_stock_sync} WHERE branch_id = ${d.branch_id}::uuid`,
    );
    if (!cursor) {
      // A device syncs the stock movements made after it was configured.
      await db.execute(
        sql`INSERT INTO ${tables.fiscal_stock_sync} (branch_id, last_at, last_id)
            SELECT branch_id, created_at, '00000000-0000-0000-0000-000000000000'::uuid FROM ${tables.fiscal_devices} WHERE branch_id = ${d.branch_id}::uuid
            ON CONFLICT DO NOTHING`,
      );
      return;
    }
    const moves = await db.query<{ id: string; created_at: Date; product_id: string; type: string; quantity: number; reference: string | null; price: string; tax_rate: string | null }>(
      sql`SELECT m.id::text, m.created_at, m.product_id::text, m.type, m.quantity, coalesce(m.reference, s.sale_number) AS reference, b.selling_price::text AS price,
                 (SELECT r.rate::text FROM ${tables.tax_rates} r WHERE r.category = p.tax_category AND r.effective_from <= m.created_at::date ORDER BY r.effective_from DESC LIMIT 1) AS tax_rate
          FROM ${tables.stock_movements} m JOIN ${tables.inventory_batches} b ON b.id = m.batch_id JOIN ${tables.products} p ON p.id = m.product_id
          -- A till sale's movements name the sale by id only (its number is taken after them).
          LEFT JOIN ${tables.sales} s ON m.reference IS NULL AND m.type = 'SALE' AND s.id = m.reference_id
          WHERE m.branch_id = ${d.branch_id}::uuid AND (m.created_at, m.id) > (${cursor.last_at}::timestamptz, ${cursor.last_id}::uuid)
            AND m.created_at < now() - make_interval(secs => ${stockLagMs / 1000})
          ORDER BY m.created_at, m.id LIMIT 500`,
    );
    if (moves.length === 0) return;
    const items = await fiscalItems(db, d.branch_id, settings, [...new Set(moves.map((m) => m.product_id))]);
    await registerItems(db, d, device, items);
    // Events: consecutive movements of one type and reference (a sale's lines, a receipt, a transfer).
    const events: (typeof moves)[] = [];
    for (const m of moves) {
      const last = events.at(-1);
      if (last && last[0]!.type === m.type && last[0]!.reference === m.reference && m.reference !== null) last.push(m);
      else events.push([m]);
    }
    for (const ev of events) {
      const sarNo: number = cursor.last_sar_no + 1;
      let totTaxable = new Decimal(0);
      let totTax = new Decimal(0);
      let tot = new Decimal(0);
      const itemList = ev.map((m, i) => {
        const item = items.get(m.product_id)!;
        const qty = Math.abs(m.quantity);
        const rate = new Decimal(m.tax_rate ?? 0);
        const total = new Decimal(m.price).times(qty);
        const tax = total.times(rate).div(rate.plus(1)).toDecimalPlaces(4);
        totTaxable = totTaxable.plus(total.minus(tax));
        totTax = totTax.plus(tax);
        tot = tot.plus(total);
        return {
          itemSeq: i + 1,
          itemCd: item.itemCode,
          itemClsCd: item.itemClassCode,
          itemNm: item.name.slice(0, 200),
          pkgUnitCd: item.packagingUnit,
          pkg: qty,
          qtyUnitCd: item.quantityUnit,
          qty,
          prc: Number(new Decimal(m.price).toFixed(4)),
          splyAmt: Number(total.toFixed(4)),
          totDcAmt: 0,
          taxblAmt: Number(total.minus(tax).toFixed(4)),
          vatCatCd: item.vatCategory,
          taxAmt: Number(tax.toFixed(4)),
          totAmt: Number(total.toFixed(4)),
        };
      });
      const body = {
        ...device,
        sarNo,
        orgSarNo: 0,
        regTyCd: 'A',
        custTpin: null,
        custNm: null,
        custBhfId: null,
        sarTyCd: STOCK_IO_TYPE[ev[0]!.type] ?? '16',
        ocrnDt: vsdcDateTime(ev[0]!.created_at).slice(0, 8),
        totItemCnt: itemList.length,
        totTaxblAmt: Number(totTaxable.toFixed(4)),
        totTaxAmt: Number(totTax.toFixed(4)),
        totAmt: Number(tot.toFixed(4)),
        remark: ev[0]!.reference,
        regrId: REGISTRANT.id,
        regrNm: REGISTRANT.name,
        modrId: REGISTRANT.id,
        modrNm: REGISTRANT.name,
        itemList,
      };
      const a = await callVsdc(d.vsdc_url, '/stock/saveStockItems', body, timeoutMs);
      if (a.resultCd !== '000') throw new TransientError(`saveStockItems ${sarNo}: ${a.resultCd} ${a.resultMsg}`);
      const last = ev.at(-1)!;
      await db.execute(
        sql`UPDATE ${tables.fiscal_stock_sync} SET last_at = ${last.created_at}, last_id = ${last.id}::uuid, last_sar_no = ${sarNo}, synced_at = now()
            WHERE branch_id = ${d.branch_id}::uuid`,
      );
      cursor = { last_at: last.created_at, last_id: last.id, last_sar_no: sarNo };
    }
    const onHand = await db.query<{ product_id: string; qty: number }>(
      // Everything held at the branch, quarantined returns included (they came back in as a return movement).
      sql`SELECT product_id::text, coalesce(sum(quantity_on_hand), 0)::int AS qty FROM ${tables.inventory_batches}
          WHERE branch_id = ${d.branch_id}::uuid AND product_id = ANY(${[...items.keys()]}::uuid[]) GROUP BY product_id`,
    );
    const stockItemList = onHand.map((r) => ({ itemCd: items.get(r.product_id)!.itemCode, rsdQty: r.qty }));
    if (stockItemList.length > 0) {
      const a = await callVsdc(d.vsdc_url, '/stockMaster/saveStockMaster', { ...device, regrId: REGISTRANT.id, regrNm: REGISTRANT.name, modrId: REGISTRANT.id, modrNm: REGISTRANT.name, stockItemList }, timeoutMs);
      if (a.resultCd !== '000') throw new TransientError(`saveStockMaster: ${a.resultCd} ${a.resultMsg}`);
    }
  }

  /**
   * Updates the gauges, and writes a `fiscal.backlog_alert` event when the oldest unsent document
   * becomes older than the tenant allows: once per episode, not once per cycle or per document.
   */
  async function watchBacklog(t: { id: string; schema: string }, db: SqlRunner, d: DeviceRow, settings: FiscalSettings): Promise<void> {
    const b = await db.one<{ n: number; oldest_seq: string | null; oldest_invoice: string | null; age: number | null }>(
      sql`SELECT count(*)::int AS n,
                 (array_agg(seq ORDER BY seq))[1]::text AS oldest_seq,
                 (array_agg(invoice_number ORDER BY seq))[1] AS oldest_invoice,
                 extract(epoch FROM now() - min(created_at))::float8 AS age
          FROM ${tables.fiscal_documents} WHERE branch_id = ${d.branch_id}::uuid AND status <> 'FISCALISED'`,
    );
    backlog.set({ tenant: t.id, branch: d.branch_id }, b.n);
    oldest.set({ tenant: t.id, branch: d.branch_id }, b.age ?? 0);
    if (b.oldest_seq === null || b.age === null || b.age < settings.backlogAlertSeconds) {
      // Back under the threshold: the next time it is passed is a new episode, with a new alert.
      if (d.backlog_alerted_seq !== null) {
        await db.execute(sql`UPDATE ${tables.fiscal_devices} SET backlog_alerted_seq = NULL WHERE branch_id = ${d.branch_id}::uuid`);
      }
      return;
    }
    if (d.backlog_alerted_seq !== null) return;
    const event: NewEvent = {
      eventType: 'fiscal.backlog_alert',
      serviceName: 'pos',
      aggregateId: d.branch_id,
      data: { branchId: d.branch_id, count: b.n, oldestInvoiceNumber: b.oldest_invoice, oldestAgeSeconds: Math.floor(b.age), thresholdSeconds: settings.backlogAlertSeconds },
      metadata: { tenantId: t.id, branchId: d.branch_id, userId: null, correlationId: null },
    };
    // The event and the note that it went out, together: one alert per episode (until the backlog is back under the threshold).
    await db.execute(
      sql`WITH mark AS (
            UPDATE ${tables.fiscal_devices} SET backlog_alerted_seq = ${b.oldest_seq}::bigint
            WHERE branch_id = ${d.branch_id}::uuid AND backlog_alerted_seq IS NULL RETURNING branch_id
          )
          INSERT INTO ${tables.outbox} (event_type, aggregate_id, branch_id, payload)
          SELECT ${event.eventType}, branch_id, branch_id, ${outboxPayload(event)}::jsonb FROM mark`,
    );
    logger.warn({ tenantId: t.id, branchId: d.branch_id, count: b.n, oldestAgeSeconds: Math.floor(b.age) }, 'fiscal backlog alert');
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = cycle()
        .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'fiscal worker cycle failed; will retry'))
        .finally(() => {
          running = null;
          schedule();
        });
    }, pollMs);
  }
  schedule();

  return {
    /** Runs a cycle now (tests); waits for a running one first. */
    async runOnce(): Promise<void> {
      if (running) await running;
      await cycle();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
export type FiscalWorker = ReturnType<typeof startFiscalWorker>;
