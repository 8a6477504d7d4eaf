import { randomUUID } from 'node:crypto';
import { BadUserInputError, NotFoundError } from '@umi/kit';
import { sql, tables, type Sql, type TenantTx } from '@umi/db';
import { TenantPrisma, type Payment, type Sale, type SaleItem } from '@umi/db/tenant-models';
import { outboxPayload, type NewEvent } from '@umi/events';
import { nextNumber, type Allocation } from '@umi/ledger';
import { priceSale, type PaymentPlan, type PricedSale, type SaleLineInput, type TaxCategory } from './pricing';

/** A product as a sale prices it at a branch on a date. */
export interface SaleProduct {
  id: string;
  name: string;
  is_active: boolean;
  deleted_at: Date | null;
  requires_prescription: boolean;
  controlled_substance: boolean;
  generic_name: string | null;
  atc_code: string | null;
  tax_category: TaxCategory;
  branch_price: string | null;
  tax_rate: string | null;
  include_tax: boolean;
}

/**
 * The products of a sale with their branch prices, the VAT rate of their category on the branch's
 * date and the tenant's pricing switch, in one round trip. Unknown or deleted: NOT_FOUND; inactive:
 * BAD_USER_INPUT, naming `field(i)`.
 */
export async function loadSaleProducts(
  tx: TenantTx,
  branchId: string,
  today: string,
  productIds: string[],
  field: (i: number) => string,
): Promise<Map<string, SaleProduct>> {
  const ids = productIds.map((id) => id.toLowerCase());
  const products = await tx.sql.query<SaleProduct>(
    sql`SELECT p.id::text, p.name, p.is_active, p.deleted_at, p.requires_prescription, p.controlled_substance, p.generic_name, p.atc_code,
               p.tax_category, s.selling_price::text AS branch_price,
               (SELECT r.rate::text FROM ${tables.tax_rates} r
                WHERE r.category = p.tax_category AND r.effective_from <= ${today}::date ORDER BY r.effective_from DESC LIMIT 1) AS tax_rate,
               coalesce((SELECT (value #>> '{}')::boolean FROM ${tables.tenant_settings} WHERE key = 'prices_include_tax'), true) AS include_tax
        FROM ${tables.products} p
        LEFT JOIN ${tables.product_branch_settings} s ON s.product_id = p.id AND s.branch_id = ${branchId}::uuid
        WHERE p.id = ANY(${[...new Set(ids)]}::uuid[])`,
  );
  const byId = new Map(products.map((p) => [p.id, p]));
  ids.forEach((id, i) => {
    const p = byId.get(id);
    if (!p || p.deleted_at) throw new NotFoundError('Product', { field: field(i) });
    if (!p.is_active) throw new BadUserInputError(`${field(i)}: ${p.name} is no longer sold`, { field: field(i) });
  });
  return byId;
}

/**
 * The branch's next gapless sale number, e.g. BR01-000042. Every sale of the branch queues on its
 * sequence row from here to COMMIT: take it last in the lock order (./index.ts), after stock.
 * Checkout takes it with `numberSale` instead, as its transaction's last statement.
 */
export async function nextSaleNumber(tx: TenantTx, branchCode: string): Promise<string> {
  return `${branchCode}-${String(await nextNumber(tx, `sale:${branchCode}`)).padStart(6, '0')}`;
}

/**
 * What a sale's number reads between `writeSale` and `numberSale` in one transaction. Never
 * committed (numberSale replaces it before COMMIT) and never a real number, which starts with a
 * branch code; unique like the sale's id, as the column's UNIQUE needs.
 */
export function unnumbered(saleId: string): string {
  return `~${saleId}`;
}

/**
 * Gives a sale written unnumbered (`writeSale` with `saleNumber: null`) the branch's next gapless
 * number, in ONE statement meant to be the transaction's last: the sequence row it locks is the
 * one every sale of the branch needs, and it is held from here to COMMIT only, so checkouts of
 * one branch overlap in everything else and queue for one round trip. Numbers stay gap-free (a
 * rollback releases the increment) and follow commit order (the next sale waits for the row
 * until this one commits). What must carry the number is written by the same statement: the
 * sale row, the `sale.completed` event (its `data.saleNumber`), and `also`: further writes,
 * each a data-modifying statement reading the CTE `numbered(id, branch_id, sale_number)`
 * (e.g. the fiscal invoice, @umi/pos). Resolves to the number.
 */
export async function numberSale(tx: TenantTx, s: { id: string; branchCode: string; event: NewEvent | null; also?: Sql[] }): Promise<string> {
  const also = (s.also ?? []).map((q, i) => sql`, also_${sql.raw(String(i))} AS (${q})`);
  const row = await tx.sql.one<{ sale_number: string | null }>(
    sql`WITH seq AS (
          INSERT INTO ${tables.number_sequences} (name, next_value) VALUES (${`sale:${s.branchCode}`}, 2)
          ON CONFLICT (name) DO UPDATE SET next_value = number_sequences.next_value + 1
          RETURNING (next_value - 1)::text AS n
        ), numbered AS (
          UPDATE ${tables.sales} sl SET sale_number = ${s.branchCode}::text || '-' || lpad(seq.n, greatest(6, length(seq.n)), '0')
          FROM seq WHERE sl.id = ${s.id}::uuid AND sl.sale_number = ${unnumbered(s.id)}
          RETURNING sl.id, sl.branch_id, sl.sale_number
        ), event AS (
          INSERT INTO ${tables.outbox} (event_type, aggregate_id, branch_id, payload)
          SELECT ${s.event?.eventType ?? null}, n.id, n.branch_id, jsonb_set(${s.event ? outboxPayload(s.event) : null}::jsonb, '{data,saleNumber}', to_jsonb(n.sale_number))
          FROM numbered n WHERE ${s.event !== null}
          RETURNING 1
        )${sql.join(also, '')}
        SELECT (SELECT sale_number FROM numbered) AS sale_number, (SELECT count(*) FROM event) AS events`,
  );
  // Only a sale of this transaction still unnumbered can be numbered; anything else is a bug.
  if (!row.sale_number) throw new Error(`numberSale: sale ${s.id} is not an unnumbered sale of this transaction`);
  return row.sale_number;
}

/**
 * Prices what stock allocation took: one line per product the customer got (its batches are rows
 * of that line, so VAT is computed per line, never per FEFO batch), at the branch price or else
 * the batch's price.
 */
export function priceAllocations(products: Map<string, SaleProduct>, allocations: Allocation[], discountAmount: string): { priced: PricedSale; pricesIncludeTax: boolean } {
  const pricesIncludeTax = [...products.values()][0]?.include_tax ?? true;
  const lines: SaleLineInput[] = allocations.map((a) => {
    const p = products.get(a.productId)!;
    if (p.tax_rate === null) throw new Error(`no VAT rate in force for ${p.tax_category}`);
    return {
      productId: a.productId,
      batchId: a.batchId,
      batchNumber: a.batchNumber,
      quantity: a.taken,
      unitPrice: p.branch_price ?? a.sellingPrice,
      taxCategory: p.tax_category,
      taxRate: p.tax_rate,
      lineKey: a.productId,
    };
  });
  return { priced: priceSale(lines, { pricesIncludeTax, discountAmount }), pricesIncludeTax };
}

/** The sale, its lines and payments as Prisma would return them, to answer without reading them back. */
export interface CreatedSale {
  sale: Sale;
  items: SaleItem[];
  payments: Payment[];
}

/**
 * Writes the sale, its lines, its payments and (when paid) its sale.completed event in ONE
 * statement: the row locks the checkout holds (stock, the sale-number sequence) are released
 * sooner the fewer round trips follow them. `saleNumber: null` writes the sale unnumbered; its
 * number and event then come from `numberSale`, the transaction's last statement (pass `event:
 * null` here).
 */
export async function writeSale(
  tx: TenantTx,
  s: {
    id: string;
    saleNumber: string | null;
    branchId: string;
    tillSessionId: string | null;
    patientId: string | null;
    cashierId: string;
    paymentMethod: string;
    prescriptionIds: string[];
    pricesIncludeTax: boolean;
    priced: PricedSale;
    plan: PaymentPlan;
    event: NewEvent | null;
  },
): Promise<CreatedSale> {
  if (s.saleNumber === null && s.event !== null) throw new Error('writeSale: an unnumbered sale gets its event from numberSale');
  const saleNumber = s.saleNumber ?? unnumbered(s.id);
  const lines = s.priced.lines.map((l) => ({ ...l, id: randomUUID() }));
  const payments = s.plan.payments.map((p) => ({ ...p, id: randomUUID() }));
  const row = await tx.sql.one<{ created_at: Date }>(
    sql`WITH sale AS (
          INSERT INTO ${tables.sales} (id, sale_number, branch_id, till_session_id, patient_id, cashier_id, subtotal, tax_amount, discount_amount,
                                       total_amount, prices_include_tax, payment_method, payment_status, prescription_ids)
          VALUES (${s.id}::uuid, ${saleNumber}, ${s.branchId}::uuid, ${s.tillSessionId}::uuid, ${s.patientId}::uuid, ${s.cashierId}::uuid,
                  ${s.priced.subtotal}::numeric, ${s.priced.taxAmount}::numeric, ${s.priced.discountAmount}::numeric, ${s.priced.totalAmount}::numeric,
                  ${s.pricesIncludeTax}, ${s.paymentMethod}, ${s.plan.paymentStatus}, ${s.prescriptionIds}::uuid[])
          RETURNING id, created_at
        ), items AS (
          INSERT INTO ${tables.sale_items} (id, sale_id, product_id, batch_id, batch_number, quantity, unit_price, tax_category, tax_rate, tax_amount, discount_amount, line_total,
                                            sale_created_at)
          -- Each line carries its sale's created_at: the month partition it goes to, and its foreign key (0010).
          SELECT i.id, ${s.id}::uuid, i.product_id, i.batch_id, i.batch_number, i.quantity, i.unit_price, i.tax_category, i.tax_rate, i.tax_amount, i.discount_amount, i.line_total,
                 sale.created_at
          FROM unnest(${lines.map((l) => l.id)}::uuid[], ${lines.map((l) => l.productId)}::uuid[], ${lines.map((l) => l.batchId)}::uuid[],
                      ${lines.map((l) => l.batchNumber)}::text[], ${lines.map((l) => l.quantity)}::int[], ${lines.map((l) => l.unitPrice)}::numeric[],
                      ${lines.map((l) => l.taxCategory)}::text[], ${lines.map((l) => l.taxRate)}::numeric[], ${lines.map((l) => l.taxAmount)}::numeric[],
                      ${lines.map((l) => l.discountAmount)}::numeric[], ${lines.map((l) => l.lineTotal)}::numeric[])
            AS i(id, product_id, batch_id, batch_number, quantity, unit_price, tax_category, tax_rate, tax_amount, discount_amount, line_total)
          CROSS JOIN sale
          RETURNING 1
        ), pays AS (
          INSERT INTO ${tables.payments} (id, sale_id, till_session_id, method, amount, tendered, change_given, provider_reference, status, processed_at)
          SELECT p.id, ${s.id}::uuid, ${s.tillSessionId}::uuid, p.method, p.amount, p.tendered, p.change_given, p.reference, p.status, CASE WHEN p.status = 'COMPLETED' THEN now() END
          FROM unnest(${payments.map((p) => p.id)}::uuid[], ${payments.map((p) => p.method)}::text[], ${payments.map((p) => p.amount)}::numeric[],
                      ${payments.map((p) => p.tendered)}::numeric[], ${payments.map((p) => p.changeGiven)}::numeric[],
                      ${payments.map((p) => p.providerReference)}::text[], ${payments.map((p) => p.status)}::text[])
            AS p(id, method, amount, tendered, change_given, reference, status)
          RETURNING 1
        ), event AS (
          INSERT INTO ${tables.outbox} (event_type, aggregate_id, branch_id, payload)
          SELECT ${s.event?.eventType ?? null}, ${s.id}::uuid, ${s.branchId}::uuid, ${s.event ? outboxPayload(s.event) : null}::jsonb
          WHERE ${s.event !== null}
          RETURNING 1
        )
        SELECT sale.created_at, (SELECT count(*) FROM items) AS items, (SELECT count(*) FROM pays) AS pays, (SELECT count(*) FROM event) AS events FROM sale`,
  );
  const createdAt = row.created_at;
  const dec = (v: string) => new TenantPrisma.Decimal(v);
  return {
    sale: {
      id: s.id,
      saleNumber,
      branchId: s.branchId,
      tillSessionId: s.tillSessionId,
      patientId: s.patientId,
      cashierId: s.cashierId,
      subtotal: dec(s.priced.subtotal),
      taxAmount: dec(s.priced.taxAmount),
      discountAmount: dec(s.priced.discountAmount),
      totalAmount: dec(s.priced.totalAmount),
      pricesIncludeTax: s.pricesIncludeTax,
      paymentMethod: s.paymentMethod,
      paymentStatus: s.plan.paymentStatus,
      status: 'COMPLETED',
      prescriptionIds: s.prescriptionIds,
      zraReceiptNumber: null,
      createdAt,
      updatedAt: createdAt,
    },
    items: lines.map((l) => ({
      id: l.id,
      saleId: s.id,
      productId: l.productId,
      batchId: l.batchId,
      batchNumber: l.batchNumber,
      quantity: l.quantity,
      unitPrice: dec(l.unitPrice),
      taxCategory: l.taxCategory,
      taxRate: dec(l.taxRate),
      taxAmount: dec(l.taxAmount),
      discountAmount: dec(l.discountAmount),
      lineTotal: dec(l.lineTotal),
      saleCreatedAt: createdAt,
    })),
    payments: payments.map((p) => ({
      id: p.id,
      saleId: s.id,
      tillSessionId: s.tillSessionId,
      method: p.method,
      amount: dec(p.amount),
      tendered: p.tendered ? dec(p.tendered) : null,
      changeGiven: p.changeGiven ? dec(p.changeGiven) : null,
      currency: 'ZMW',
      provider: null,
      providerReference: p.providerReference,
      providerResponse: null,
      status: p.status,
      processedAt: p.status === 'COMPLETED' ? createdAt : null,
      createdAt,
      updatedAt: createdAt,
    })),
  };
}

