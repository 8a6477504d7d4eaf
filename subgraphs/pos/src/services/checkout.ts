import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { allocateStock, nextNumber, recordEvent, tenantTable, type BranchRecord } from '@umi/db';
import type { Prisma } from '@umi/db/src/generated/tenant/client';
import { actorOf, branchDate, requireBranch } from '../access';
import { tenantScope, type PosContext } from '../context';
import { planPayments, priceSale, type PaymentMethod, type SaleLineInput, type TaxCategory } from '../pricing';

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
    .array(z.object({ method: z.enum(METHODS), amount: money, tendered: money.nullish(), reference: z.string().trim().max(100).nullish() }))
    .min(1)
    .max(10)
    .nullish(),
  tendered: money.nullish(),
  tillSessionId: uuidSchema.nullish(),
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
}

/** The tenant's pricing switch and the VAT rate of each category in force on `date`. */
async function taxSettings(tx: Prisma.TransactionClient, schema: string, date: string) {
  const [row] = await tx.$queryRawUnsafe<{ include_tax: boolean | null; rates: Record<string, string> | null }[]>(
    `SELECT (SELECT (value #>> '{}')::boolean FROM ${tenantTable(schema, 'tenant_settings')} WHERE key = 'prices_include_tax') AS include_tax,
            (SELECT jsonb_object_agg(category, rate::text) FROM (
               SELECT DISTINCT ON (category) category, rate FROM ${tenantTable(schema, 'tax_rates')}
               WHERE effective_from <= $1::date ORDER BY category, effective_from DESC) r) AS rates`,
    date,
  );
  return { pricesIncludeTax: row?.include_tax ?? true, rates: row?.rates ?? {} };
}

/** Prescription-only products sell only against a valid, verified prescription of the patient that lists them. */
async function checkPrescriptions(tx: Prisma.TransactionClient, schema: string, data: SaleInput, pom: ProductRow[], today: string): Promise<void> {
  if (pom.length === 0) return;
  const names = pom.map((p) => p.name).join(', ');
  if (!data.patientId || !data.prescriptionIds?.length) {
    throw new ForbiddenError(`Prescription-only products need a verified prescription for the patient (patientId and prescriptionIds): ${names}`);
  }
  const covered = await tx.$queryRawUnsafe<{ product_id: string }[]>(
    `SELECT DISTINCT i.product_id::text FROM ${tenantTable(schema, 'prescriptions')} p
     JOIN ${tenantTable(schema, 'prescription_items')} i ON i.prescription_id = p.id
     WHERE p.id = ANY($1::uuid[]) AND p.patient_id = $2::uuid AND p.valid_until >= $3::date
       AND p.status IN ('VERIFIED', 'PARTIALLY_DISPENSED', 'DISPENSED') AND i.product_id = ANY($4::uuid[])`,
    data.prescriptionIds,
    data.patientId,
    today,
    pom.map((p) => p.id),
  );
  const ok = new Set(covered.map((r) => r.product_id));
  const missing = pom.filter((p) => !ok.has(p.id));
  if (missing.length > 0) {
    throw new ForbiddenError(`No valid verified prescription of this patient covers: ${missing.map((p) => p.name).join(', ')}`);
  }
}

async function checkTillSession(tx: Prisma.TransactionClient, branch: BranchRecord, id: string): Promise<void> {
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
export async function createSale(ctx: PosContext, input: unknown): Promise<string> {
  const { db, tenant } = tenantScope(ctx);
  const data = parseInput(saleSchema, input);
  const branch = await requireBranch(ctx, data.branchId, 'sell', 'input.branchId');
  const hash = requestHash(data);
  const today = branchDate(branch);
  const schema = tenant.schemaName;

  return db.$transaction(async (tx) => {
    const claimed = await tx.$queryRawUnsafe<unknown[]>(
      `INSERT INTO ${tenantTable(schema, 'idempotency_keys')} (scope, key, request_hash) VALUES ('createSale', $1, $2)
       ON CONFLICT (scope, key) DO NOTHING RETURNING 1`,
      data.idempotencyKey,
      hash,
    );
    if (claimed.length === 0) {
      const prior = await tx.idempotencyKey.findUnique({ where: { scope_key: { scope: 'createSale', key: data.idempotencyKey } } });
      if (!prior || prior.requestHash !== hash || !prior.resourceId) {
        throw new ConflictError('idempotencyKey was already used for a different sale', { field: 'input.idempotencyKey' });
      }
      return prior.resourceId;
    }

    const productIds = [...new Set(data.items.map((i) => i.productId.toLowerCase()))];
    const products = await tx.$queryRawUnsafe<ProductRow[]>(
      `SELECT p.id::text, p.name, p.is_active, p.deleted_at, p.requires_prescription, p.tax_category, s.selling_price::text AS branch_price
       FROM ${tenantTable(schema, 'products')} p
       LEFT JOIN ${tenantTable(schema, 'product_branch_settings')} s ON s.product_id = p.id AND s.branch_id = $2::uuid
       WHERE p.id = ANY($1::uuid[])`,
      productIds,
      branch.id,
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
    await checkPrescriptions(tx, schema, data, products.filter((p) => p.requires_prescription), today);
    if (data.tillSessionId) await checkTillSession(tx, branch, data.tillSessionId);
    const { pricesIncludeTax, rates } = await taxSettings(tx, schema, today);

    const saleId = randomUUID();
    const saleNumber = `${branch.code}-${String(await nextNumber(tx, schema, `sale:${branch.code}`)).padStart(6, '0')}`;
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
      const rate = rates[p.tax_category];
      if (rate === undefined) throw new Error(`no VAT rate in force for ${p.tax_category}`);
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

    const now = new Date();
    await tx.sale.create({
      data: {
        id: saleId,
        saleNumber,
        branchId: branch.id,
        tillSessionId: data.tillSessionId ?? null,
        patientId: data.patientId ?? null,
        cashierId: ctx.principal!.userId,
        subtotal: priced.subtotal,
        taxAmount: priced.taxAmount,
        discountAmount: priced.discountAmount,
        totalAmount: priced.totalAmount,
        pricesIncludeTax,
        paymentMethod: data.paymentMethod,
        paymentStatus: plan.paymentStatus,
        prescriptionIds: data.prescriptionIds ?? [],
        createdAt: now,
      },
    });
    await tx.saleItem.createMany({
      data: priced.lines.map((l) => ({
        saleId,
        productId: l.productId,
        batchId: l.batchId,
        batchNumber: l.batchNumber,
        quantity: l.quantity,
        unitPrice: l.unitPrice,
        taxCategory: l.taxCategory,
        taxRate: l.taxRate,
        taxAmount: l.taxAmount,
        discountAmount: l.discountAmount,
        lineTotal: l.lineTotal,
      })),
    });
    if (plan.payments.length > 0) {
      await tx.payment.createMany({
        data: plan.payments.map((p) => ({
          saleId,
          method: p.method,
          amount: p.amount,
          tendered: p.tendered,
          changeGiven: p.changeGiven,
          providerReference: p.providerReference,
          status: p.status,
          processedAt: p.status === 'COMPLETED' ? now : null,
        })),
      });
    }
    if (plan.paymentStatus === 'PAID') {
      await recordSaleCompleted(tx, ctx, schema, { id: saleId, saleNumber, branchId: branch.id, totalAmount: priced.totalAmount, items: priced.lines });
    }
    await tx.idempotencyKey.update({ where: { scope_key: { scope: 'createSale', key: data.idempotencyKey } }, data: { resourceId: saleId } });
    return saleId;
  });
}

/** The `sale.completed` event: the key and the figures a dashboard shows; the rest is fetched through the graph. */
export function recordSaleCompleted(
  tx: Prisma.TransactionClient,
  ctx: PosContext,
  schema: string,
  sale: { id: string; saleNumber: string; branchId: string; totalAmount: string; items: { productId: string; quantity: number }[] },
) {
  const { tenant } = tenantScope(ctx);
  return recordEvent(tx, schema, {
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
    metadata: { tenantId: tenant.id, branchId: sale.branchId, userId: ctx.principal!.userId, correlationId: ctx.requestId },
  });
}
