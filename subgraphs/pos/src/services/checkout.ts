import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConflictError, ForbiddenError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { sql, tables, type TenantTx } from '@umi/db';
import { recordEvent, type NewEvent } from '@umi/events';
import { allocateStock, lockStockKeys, type Allocation } from '@umi/ledger';
import {
  applySupply,
  enforceSaleSafety,
  loadSaleProducts,
  lockPrescriptions,
  numberSale,
  ownOpenSession,
  planPayments,
  planTillSupply,
  priceAllocations,
  runSafetyCheck,
  writeSale,
  type CreatedSale as SupplyCreatedSale,
  type PaymentMethod,
} from '@umi/supply';
import { requireTenant } from '@umi/subgraph';
import { actorOf, auditOf, branchDate, requireBranch } from '../policy';
import type { PosContext } from '../context';
import type { PaymentAttempt } from '@umi/db/tenant-models';
import { enqueueFiscal, fiscalInvoiceOfNumberedSale } from '../fiscal/queue';
import { mobileMoneyPaymentFields, mobileMoneySaleFields, mobileMoneyTenders, recordMobileMoneyAttempts } from './mobile-money/attempts';

/** A sale as checkout made it, with the requests to pay recorded with it (mobile money with a provider). */
export interface CreatedSale extends SupplyCreatedSale {
  attempts?: PaymentAttempt[];
}

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
  safetyOverrideReason: z.string().trim().min(5, 'must say why (at least 5 characters)').max(1000).nullish(),
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

/**
 * Checks out a cart in one transaction: the idempotency key is claimed first (a concurrent retry
 * waits on it, then reads the sale it produced). Then, in the supply path's lock order
 * (@umi/supply): the prescriptions named and their items (a prescribed product consumes what is
 * left of them), the seller's till session (shared), and stock; the safety check of a named
 * patient; FEFO allocation with its ledger rows; VAT per line; the sale, its lines and payments.
 * Last, one statement gives the sale the branch's next number, with what carries it (the
 * `sale.completed` event, the fiscal invoice). Returns the sale's id.
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

    const byId = await loadSaleProducts(tx, branch.id, today, data.items.map((i) => i.productId), (i) => `input.items[${i}].productId`);
    const patient = data.patientId ? await tx.patient.findFirst({ where: { id: data.patientId, deletedAt: null } }) : null;
    if (data.patientId && !patient) throw new NotFoundError('Patient', { field: 'input.patientId' });
    // Its allergies went with its personal data: the safety check would pass blind. Register the person again.
    if (patient?.anonymisedAt) throw new ConflictError('The patient was anonymised; register them again', { reason: 'PATIENT_ANONYMISED', field: 'input.patientId' });

    // The cart as the customer bought it: one line per product.
    const cart = new Map<string, number>();
    for (const i of data.items) cart.set(i.productId.toLowerCase(), (cart.get(i.productId.toLowerCase()) ?? 0) + i.quantity);
    const cartLines = [...cart].map(([productId, quantity]) => {
      const p = byId.get(productId)!;
      return { productId, quantity, name: p.name, prescriptionOnly: p.requires_prescription || p.controlled_substance };
    });
    const pom = cartLines.filter((l) => l.prescriptionOnly);
    if (pom.length > 0 && (!data.patientId || !data.prescriptionIds?.length)) {
      throw new ForbiddenError(
        `Prescription-only products need a verified prescription for the patient (patientId and prescriptionIds): ${pom.map((l) => l.name).join(', ')}`,
      );
    }
    // Lock order 1: prescriptions and their items; 2: the till session; 3: stock; 4: the sale number.
    const prescriptions = await lockPrescriptions(tx, data.prescriptionIds ?? []);
    const takes = planTillSupply(prescriptions, { patientId: data.patientId ?? null, today, lines: cartLines });
    const session = await ownOpenSession(tx, principal, branch.id, data.tillSessionId, 'input.tillSessionId');

    const warnings = patient
      ? await runSafetyCheck(tx, {
          items: cartLines.map((l) => {
            const p = byId.get(l.productId)!;
            return { id: p.id, name: p.name, genericName: p.generic_name, atcCode: p.atc_code, controlledSubstance: p.controlled_substance };
          }),
          patient,
          // The prescriptions this sale supplies are what is being sold, not other medicines.
          excludePrescriptionId: null,
          excludePrescriptionIds: [...new Set(takes.map((t) => t.prescriptionId))],
          prescriber: null,
          today,
        })
      : [];

    const actor = actorOf(ctx);
    // Each prescribed product's register lines name the prescription it was supplied against (and
    // so the pharmacist who verified it); the rest of the cart names none.
    const rxOf = new Map<string, string>();
    for (const t of takes) if (!rxOf.has(t.productId)) rxOf.set(t.productId, t.prescriptionId);
    const groups = new Map<string | null, { productId: string; quantity: number }[]>();
    for (const l of cartLines) {
      const rx = rxOf.get(l.productId) ?? null;
      groups.set(rx, [...(groups.get(rx) ?? []), { productId: l.productId, quantity: l.quantity }]);
    }
    const locked = await lockStockKeys(tx, cartLines.map((l) => ({ branchId: branch.id, productId: l.productId })));
    if (patient) {
      await enforceSaleSafety(tx, {
        warnings,
        patientId: patient.id,
        saleId,
        branchId: branch.id,
        overrideReason: data.safetyOverrideReason ?? null,
        actor: { userId: principal.userId, isPharmacist: principal.role === 'PHARMACIST' },
        audit: auditOf(ctx),
      });
    }
    // The sale has no number yet (it is taken last, below): its stock movements and register lines
    // name it by id (reference_id, the movement a register line records), and readers show its
    // number through that id. They are append-only, so nothing written here is rewritten later.
    const allocations: Allocation[] = [];
    try {
      for (const [prescriptionId, lines] of groups) {
        const change = await allocateStock(tx, actor, {
          branchId: branch.id,
          today,
          type: 'SALE',
          lines,
          reference: null,
          referenceId: saleId,
          patientId: data.patientId ?? null,
          prescriptionId,
          locked,
        });
        allocations.push(...change.movements);
      }
    } catch (err) {
      if (err instanceof ConflictError && err.extensions.reason === 'INSUFFICIENT_STOCK') {
        const p = byId.get(String(err.extensions.productId));
        throw new ConflictError(`Insufficient stock of ${p?.name ?? 'a product'}: ${String(err.extensions.requested)} requested, ${String(err.extensions.available)} available`, {
          ...err.extensions,
        });
      }
      throw err;
    }

    const { priced, pricesIncludeTax } = priceAllocations(byId, allocations, data.discountAmount ?? '0.00');
    const plan = planPayments(
      priced.totalAmount,
      data.paymentMethod as PaymentMethod,
      data.payments?.map((p) => ({ method: p.method, amount: p.amount, tendered: p.tendered ?? null, reference: p.reference ?? null })),
      data.tendered ?? null,
    );

    const written = await writeSale(tx, {
      id: saleId,
      saleNumber: null,
      branchId: branch.id,
      tillSessionId: session.id,
      patientId: data.patientId ?? null,
      cashierId: principal.userId,
      paymentMethod: data.paymentMethod,
      prescriptionIds: data.prescriptionIds ?? [],
      pricesIncludeTax,
      priced,
      plan,
      event: null,
    });
    // The prescription items' fills name the sale, so they follow it.
    await applySupply(tx, takes, allocations, { userId: principal.userId, isPharmacist: principal.role === 'PHARMACIST', saleId });
    // A sale not paid yet waits as PENDING_PAYMENT; its requests to pay go out after the commit.
    const attempts = await recordMobileMoneyAttempts(tx, { sale: written.sale, payments: written.payments, tenders, windowSeconds: ctx.deps.env.MOMO_PAYMENT_WINDOW_SECONDS });
    // Lock order 4, and the transaction's last statement: the branch's gapless sale number. Its
    // sequence row stays locked until COMMIT and every sale of the branch needs it, so checkouts
    // of one branch run side by side up to here and queue only for this one round trip and the
    // commit; numbers follow commit order, and a rollback before this leaves no gap. The event
    // and the fiscal invoice carry the number, so they are written by the same statement.
    const paid = plan.paymentStatus === 'PAID';
    const saleNumber = await numberSale(tx, {
      id: saleId,
      branchCode: branch.code,
      event: paid ? saleCompletedEvent(ctx, { id: saleId, saleNumber: '', branchId: branch.id, totalAmount: priced.totalAmount, items: priced.lines }) : null,
      also: paid ? [fiscalInvoiceOfNumberedSale] : [],
    });
    const created: CreatedSale = { ...written, sale: { ...written.sale, saleNumber }, attempts };
    return { id: saleId, created };
  });
}

/** The `sale.completed` event: the key and the figures a dashboard shows; the rest is fetched through the graph. */
type CompletedSale = { id: string; saleNumber: string; branchId: string; totalAmount: string; items: { productId: string; quantity: number }[] };

/** The `sale.completed` event of a sale, with who caused it (a request, or the mobile-money worker). */
export function saleCompletedEventOf(sale: CompletedSale, by: { tenantId: string; userId: string | null; correlationId: string | null }): NewEvent {
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
    metadata: { tenantId: by.tenantId, branchId: sale.branchId, userId: by.userId, correlationId: by.correlationId },
  };
}

export function saleCompletedEvent(ctx: PosContext, sale: CompletedSale): NewEvent {
  const { tenant, principal } = requireTenant(ctx);
  return saleCompletedEventOf(sale, { tenantId: tenant.id, userId: principal.userId, correlationId: ctx.requestId });
}

/** Writes the `sale.completed` event of a sale paid after checkout (a confirmed mobile-money payment) and queues its invoice. */
export async function recordSaleCompleted(
  tx: TenantTx,
  ctx: PosContext,
  sale: { id: string; saleNumber: string; branchId: string; totalAmount: string; items: { productId: string; quantity: number }[] },
) {
  await enqueueFiscal(tx, { kind: 'SALE', saleId: sale.id });
  return recordEvent(tx, saleCompletedEvent(ctx, sale));
}
