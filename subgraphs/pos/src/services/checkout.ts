import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { sql, tables, type BranchRecord, type TenantTx } from '@umi/db';
import { TenantPrisma, type Payment, type PaymentAttempt, type Sale, type SaleItem } from '@umi/db/tenant-models';
import { outboxPayload, recordEvent, type NewEvent } from '@umi/events';
import { allocateStock, nextNumber } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { actorOf, branchDate, requireBranch } from '../policy';
import type { PosContext } from '../context';
import { mobileMoneyPaymentFields, mobileMoneySaleFields, mobileMoneyTenders, recordMobileMoneyAttempts } from './mobile-money/attempts';
import { planPayments, priceSale, type PaymentMethod, type PaymentPlan, type PricedSale, type SaleLineInput, type TaxCategory } from '../pricing';

const METHODS = ['CASH', 'CARD', 'MOBILE_MONEY', 'INSURANCE'] as const;
const money = z.string().trim().max(20);

const saleSchema = z.object({
  branchId: uuidSchema,
  items: z
    .array(z.object({ productId: uuidSchema, quantity: z.number().int('must be a whole number').min(1, 'must be above zero').max(100_000) }))
    .min(1, 'the cart is empty')
    .max(200, 'at most 200 lines'),
  paymentMethod: z.enum(METHODS),
  idempotencyKey: z.string().trim().min(8, 'must be at least 8 characters').max(255),
  patientId: uuidSchema.nullish(),
  prescriptionIds: z.array(uuidSchema).max(20).nullish(),
  discountAmount: money.nullish(),
  payments: z
    .array(z.object({ method: z.enum(METHODS), amount: money, tendered: money.nullish(), reference: z.string().trim().max(100).nullish(), ...mobileMoneyPaymentFields }))
    .min(1)
    .max(10)
    .nullish(),
  tendered: money.nullish(),
  tillSessionId: uuidSchema.nullish(),
  ...mobileMoneySaleFields,
});
type SaleInput = z.infer<typeof saleSchema>;

/**
 * The request's fingerprint for idempotency: the input without its key, with the cart in a fixed
 * order, so a retry of the same checkout matches and anything else with the same key does not.
 */
function requestHash(input: SaleInput): string {
  const { idempotencyKey: _key, ...rest } = input;
  const canonical = {
    ...rest,
    branchId: rest.branchId.toLowerCase(),
    items: [...rest.items].map((i) => ({ productId: i.productId.toLowerCase(), quantity: i.quantity })).sort((a, b) => a.productId.localeCompare(b.productId) || a.quantity - b.quantity),
    prescriptionIds: [...(rest.prescriptionIds ?? [])].map((id) => id.toLowerCase()).sort(),
  };
  const sorted = JSON.stringify(canonical, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
  return createHash('sha256').update(sorted).digest('hex');
}

interface ProductRow {
  id: string;
  name: string;
  is_active: boolean;
  deleted_at: Date | null;
  requires_prescription: boolean;
  tax_category: TaxCategory;
  branch_price: string | null;
  tax_rate: string | null;
  include_tax: boolean;
}

/** Prescription-only products sell only against a valid, verified prescription of the patient that lists them. */
async function checkPrescriptions(tx: TenantTx, data: SaleInput, pom: ProductRow[], today: string): Promise<void> {
  if (pom.length === 0) return;
  const names = pom.map((p) => p.name).join(', ');
  if (!data.patientId || !data.prescriptionIds?.length) {
    throw new ForbiddenError(`Prescription-only products need a verified prescription for the patient (patientId and prescriptionIds): ${names}`);
  }
  const covered = await tx.sql.query<{ product_id: string }>(
    sql`SELECT DISTINCT i.product_id::text FROM ${tables.prescriptions} p
        JOIN ${tables.prescription_items} i ON i.prescription_id = p.id
        WHERE p.id = ANY(${data.prescriptionIds}::uuid[]) AND p.patient_id = ${data.patientId}::uuid AND p.valid_until >= ${today}::date
          AND p.status IN ('VERIFIED', 'PARTIALLY_DISPENSED', 'DISPENSED') AND i.product_id = ANY(${pom.map((p) => p.id)}::uuid[])`,
  );
  const ok = new Set(covered.map((r) => r.product_id));
  const missing = pom.filter((p) => !ok.has(p.id));
  if (missing.length > 0) {
    throw new ForbiddenError(`No valid verified prescription of this patient covers: ${missing.map((p) => p.name).join(', ')}`);
  }
}

async function checkTillSession(tx: TenantTx, branch: BranchRecord, id: string): Promise<void> {
  const session = await tx.tillSession.findUnique({ where: { id }, select: { branchId: true, status: true } });
  if (!session) throw new NotFoundError('Till session', { field: 'input.tillSessionId' });
  if (session.branchId !== branch.id) throw new BadUserInputError('input.tillSessionId: the till session belongs to another branch', { field: 'input.tillSessionId' });
  if (session.status !== 'OPEN') throw new ConflictError('The till session is closed');
}

/**
 * Checks out a cart in one transaction: the idempotency key is claimed first (a concurrent retry
 * waits on it, then reads the sale it produced), then prices, VAT, FEFO allocation with its ledger
 * rows, the sale, its lines and payments, and the `sale.completed` event. Returns the sale's id.
 */
export async function createSale(ctx: PosContext, input: unknown): Promise<{ id: string; created: CreatedSale | null }> {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(saleSchema, input);
  const branch = await requireBranch(ctx, data.branchId, 'sell', 'input.branchId');
  const hash = requestHash(data);
  const tenders = mobileMoneyTenders(data);
  const today = branchDate(branch);

  const saleId = randomUUID();
  return db.transaction(async (tx) => {
    // The key names its sale from the start: a retry that finds the key reads the sale it made.
    const claimed = await tx.sql.query(
      sql`INSERT INTO ${tables.idempotency_keys} (scope, key, request_hash, resource_id) VALUES ('createSale', ${data.idempotencyKey}, ${hash}, ${saleId}::uuid)
          ON CONFLICT (scope, key) DO NOTHING RETURNING 1`,
    );
    if (claimed.length === 0) {
      const prior = await tx.idempotencyKey.findUnique({ where: { scope_key: { scope: 'createSale', key: data.idempotencyKey } } });
      if (!prior || prior.requestHash !== hash || !prior.resourceId) {
        throw new ConflictError('idempotencyKey was already used for a different sale', { field: 'input.idempotencyKey' });
      }
      return { id: prior.resourceId, created: null };
    }

    const productIds = [...new Set(data.items.map((i) => i.productId.toLowerCase()))];
    // Products, their branch prices, the VAT rate of their category on the branch's date and the
    // tenant's pricing switch, in one round trip.
    const products = await tx.sql.query<ProductRow>(
      sql`SELECT p.id::text, p.name, p.is_active, p.deleted_at, p.requires_prescription, p.tax_category, s.selling_price::text AS branch_price,
                 (SELECT r.rate::text FROM ${tables.tax_rates} r
                  WHERE r.category = p.tax_category AND r.effective_from <= ${today}::date ORDER BY r.effective_from DESC LIMIT 1) AS tax_rate,
                 coalesce((SELECT (value #>> '{}')::boolean FROM ${tables.tenant_settings} WHERE key = 'prices_include_tax'), true) AS include_tax
          FROM ${tables.products} p
          LEFT JOIN ${tables.product_branch_settings} s ON s.product_id = p.id AND s.branch_id = ${branch.id}::uuid
          WHERE p.id = ANY(${productIds}::uuid[])`,
    );
    const byId = new Map(products.map((p) => [p.id, p]));
    data.items.forEach((item, i) => {
      const p = byId.get(item.productId.toLowerCase());
      if (!p || p.deleted_at) throw new NotFoundError('Product', { field: `input.items[${i}].productId` });
      if (!p.is_active) throw new BadUserInputError(`input.items[${i}].productId: ${p.name} is no longer sold`, { field: `input.items[${i}].productId` });
    });
    if (data.patientId) {
      const patient = await tx.patient.findUnique({ where: { id: data.patientId }, select: { id: true } });
      if (!patient) throw new NotFoundError('Patient', { field: 'input.patientId' });
    }
    await checkPrescriptions(tx, data, products.filter((p) => p.requires_prescription), today);
    if (data.tillSessionId) await checkTillSession(tx, branch, data.tillSessionId);
    const pricesIncludeTax = products[0]?.include_tax ?? true;

    const saleNumber = `${branch.code}-${String(await nextNumber(tx, `sale:${branch.code}`)).padStart(6, '0')}`;
    let allocation;
    try {
      allocation = await allocateStock(tx, actorOf(ctx), {
        branchId: branch.id,
        today,
        type: 'SALE',
        lines: data.items.map((i) => ({ productId: i.productId.toLowerCase(), quantity: i.quantity })),
        reference: saleNumber,
        referenceId: saleId,
        patientId: data.patientId ?? null,
      });
    } catch (err) {
      if (err instanceof ConflictError && err.extensions.reason === 'INSUFFICIENT_STOCK') {
        const p = byId.get(String(err.extensions.productId));
        throw new ConflictError(`Insufficient stock of ${p?.name ?? 'a product'}: ${String(err.extensions.requested)} requested, ${String(err.extensions.available)} available`, {
          ...err.extensions,
        });
      }
      throw err;
    }

    const lines: SaleLineInput[] = allocation.movements.map((a) => {
      const p = byId.get(a.productId)!;
      const rate = p.tax_rate;
      if (rate === null) throw new Error(`no VAT rate in force for ${p.tax_category}`);
      return {
        productId: a.productId,
        batchId: a.batchId,
        batchNumber: a.batchNumber,
        quantity: a.taken,
        unitPrice: p.branch_price ?? a.sellingPrice,
        taxCategory: p.tax_category,
        taxRate: rate,
      };
    });
    const priced = priceSale(lines, { pricesIncludeTax, discountAmount: data.discountAmount ?? '0.00' });
    const plan = planPayments(
      priced.totalAmount,
      data.paymentMethod as PaymentMethod,
      data.payments?.map((p) => ({ method: p.method, amount: p.amount, tendered: p.tendered ?? null, reference: p.reference ?? null })),
      data.tendered ?? null,
    );

    const created = await writeSale(tx, {
      id: saleId,
      saleNumber,
      branchId: branch.id,
      tillSessionId: data.tillSessionId ?? null,
      patientId: data.patientId ?? null,
      cashierId: principal.userId,
      paymentMethod: data.paymentMethod,
      prescriptionIds: data.prescriptionIds ?? [],
      pricesIncludeTax,
      priced,
      plan,
      event:
        plan.paymentStatus === 'PAID'
          ? saleCompletedEvent(ctx, { id: saleId, saleNumber, branchId: branch.id, totalAmount: priced.totalAmount, items: priced.lines })
          : null,
    });
    // A sale not paid yet waits as PENDING_PAYMENT; its requests to pay go out after the commit.
    const attempts = await recordMobileMoneyAttempts(tx, { sale: created.sale, payments: created.payments, tenders, windowSeconds: ctx.deps.env.MOMO_PAYMENT_WINDOW_SECONDS });
    return { id: saleId, created: { ...created, attempts } };
  });
}

/** The sale, its lines and payments as Prisma would return them, to answer without reading them back. */
export interface CreatedSale {
  sale: Sale;
  items: SaleItem[];
  payments: Payment[];
  /** The requests to pay recorded with the sale (mobile money with a provider). */
  attempts?: PaymentAttempt[];
}

/**
 * Writes the sale, its lines, its payments and (when paid) its sale.completed event in ONE
 * statement: the row locks the checkout holds (stock, the sale-number sequence) are released
 * sooner the fewer round trips follow them.
 */
async function writeSale(
  tx: TenantTx,
  s: {
    id: string;
    saleNumber: string;
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
  const lines = s.priced.lines.map((l) => ({ ...l, id: randomUUID() }));
  const payments = s.plan.payments.map((p) => ({ ...p, id: randomUUID() }));
  const row = await tx.sql.one<{ created_at: Date }>(
    sql`WITH sale AS (
          INSERT INTO ${tables.sales} (id, sale_number, branch_id, till_session_id, patient_id, cashier_id, subtotal, tax_amount, discount_amount,
                                       total_amount, prices_include_tax, payment_method, payment_status, prescription_ids)
          VALUES (${s.id}::uuid, ${s.saleNumber}, ${s.branchId}::uuid, ${s.tillSessionId}::uuid, ${s.patientId}::uuid, ${s.cashierId}::uuid,
                  ${s.priced.subtotal}::numeric, ${s.priced.taxAmount}::numeric, ${s.priced.discountAmount}::numeric, ${s.priced.totalAmount}::numeric,
                  ${s.pricesIncludeTax}, ${s.paymentMethod}, ${s.plan.paymentStatus}, ${s.prescriptionIds}::uuid[])
          RETURNING id, created_at
        ), items AS (
          INSERT INTO ${tables.sale_items} (id, sale_id, product_id, batch_id, batch_number, quantity, unit_price, tax_category, tax_rate, tax_amount, discount_amount, line_total)
          SELECT i.id, ${s.id}::uuid, i.product_id, i.batch_id, i.batch_number, i.quantity, i.unit_price, i.tax_category, i.tax_rate, i.tax_amount, i.discount_amount, i.line_total
          FROM unnest(${lines.map((l) => l.id)}::uuid[], ${lines.map((l) => l.productId)}::uuid[], ${lines.map((l) => l.batchId)}::uuid[],
                      ${lines.map((l) => l.batchNumber)}::text[], ${lines.map((l) => l.quantity)}::int[], ${lines.map((l) => l.unitPrice)}::numeric[],
                      ${lines.map((l) => l.taxCategory)}::text[], ${lines.map((l) => l.taxRate)}::numeric[], ${lines.map((l) => l.taxAmount)}::numeric[],
                      ${lines.map((l) => l.discountAmount)}::numeric[], ${lines.map((l) => l.lineTotal)}::numeric[])
            AS i(id, product_id, batch_id, batch_number, quantity, unit_price, tax_category, tax_rate, tax_amount, discount_amount, line_total)
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
      saleNumber: s.saleNumber,
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

/** The `sale.completed` event: the key and the figures a dashboard shows; the rest is fetched through the graph. */
export function saleCompletedEvent(
  ctx: PosContext,
  sale: { id: string; saleNumber: string; branchId: string; totalAmount: string; items: { productId: string; quantity: number }[] },
): NewEvent {
  const { tenant, principal } = requireTenant(ctx);
  return {
    eventType: 'sale.completed',
    serviceName: 'pos',
    aggregateId: sale.id,
    data: {
      saleId: sale.id,
      saleNumber: sale.saleNumber,
      branchId: sale.branchId,
      totalAmount: sale.totalAmount,
      items: sale.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
    },
    metadata: { tenantId: tenant.id, branchId: sale.branchId, userId: principal.userId, correlationId: ctx.requestId },
  };
}

/** Writes the `sale.completed` event of a sale paid after checkout (a confirmed mobile-money payment). */
export function recordSaleCompleted(
  tx: TenantTx,
  ctx: PosContext,
  sale: { id: string; saleNumber: string; branchId: string; totalAmount: string; items: { productId: string; quantity: number }[] },
) {
  return recordEvent(tx, saleCompletedEvent(ctx, sale));
}
