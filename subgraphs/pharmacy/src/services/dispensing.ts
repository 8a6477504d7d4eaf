import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { addDays, ConflictError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { auditRowFrom, recordAudit, sql } from '@umi/db';
import { recordEvent } from '@umi/events';
import { allocateStock, lockStockKeys, type Allocation } from '@umi/ledger';
import {
  applySupply,
  loadSaleProducts,
  lockPrescriptions,
  numberSale,
  ownOpenSession,
  priceAllocations,
  recordAlerts,
  refusalOf,
  runSafetyCheck,
  SupplyReason,
  writeSale,
  type ItemTake,
  type PaymentPlan,
} from '@umi/supply';
import { requireTenant } from '@umi/subgraph';
import { actorOf, auditOf, branchDate, requireBranch } from '../policy';
import type { PharmacyContext } from '../context';

const argsSchema = z.object({
  id: uuidSchema,
  overrideReason: z.string().trim().min(5, 'must say why (at least 5 characters)').max(1000).nullish(),
  tillSessionId: uuidSchema.nullish(),
});

/** Unpaid until paid at the till: no payment rows, so nothing is PENDING in the session. */
const UNPAID: PaymentPlan = { payments: [], paymentStatus: 'PENDING', changeGiven: '0.00' };

/**
 * Fills a verified prescription from the branch's stock in one transaction (PHARMACIST of the
 * branch), on the supply path every till sale takes (@umi/supply, in its lock order: the
 * prescription and its items, the pharmacist's till session, then stock). The safety check runs
 * again (the patient may have new prescriptions) and an unresolved CONTRAINDICATED warning needs
 * an override reason; each item takes what is left of it as far as stock allows,
 * first-expiry-first-out (skipping batches that expire before the course ends); what was supplied
 * becomes ONE priced sale (VAT per line) booked to the pharmacist's open till session, unpaid until
 * paid at the till (`paySale`). Controlled products get their register lines (naming the
 * prescription) and a high-severity compliance event. PENDING (unverified), cancelled, expired or
 * fully supplied prescriptions are CONFLICT.
 */
export async function dispensePrescription(ctx: PharmacyContext, rawArgs: unknown): Promise<string> {
  const { db, tenant, principal } = requireTenant(ctx);
  const args = parseInput(argsSchema, rawArgs, 'args');
  const found = await ctx.loaders.prescriptionById.load(args.id);
  if (!found) throw new NotFoundError('Prescription', { field: 'id' });
  const branch = await requireBranch(ctx, found.branchId, 'dispense', 'id');
  const today = branchDate(branch);
  const userId = principal.userId;

  return db.transaction(async (tx) => {
    const locked = await lockPrescriptions(tx, [args.id]);
    const rx = locked.prescriptions[0];
    if (!rx) throw new NotFoundError('Prescription', { field: 'id' });
    if (rx.status === 'DISPENSED') throw new ConflictError('The prescription has already been dispensed in full', { reason: 'ALREADY_DISPENSED' });
    const refusal = refusalOf(rx, today);
    if (refusal) throw refusal;
    const patient = await tx.patient.findUniqueOrThrow({ where: { id: rx.patient_id } });
    const items = [...locked.items].sort((a, b) => a.line_no - b.line_no || a.id.localeCompare(b.id));
    const products = await loadSaleProducts(tx, branch.id, today, [...new Set(items.map((i) => i.product_id))], () => 'id');

    const warnings = await runSafetyCheck(tx, {
      items: items.map((i) => {
        const p = products.get(i.product_id)!;
        return { id: p.id, name: p.name, genericName: p.generic_name, atcCode: p.atc_code, controlledSubstance: p.controlled_substance };
      }),
      patient,
      excludePrescriptionId: rx.id,
      prescriber: { name: rx.prescriber_name, license: rx.prescriber_license },
      today,
    });
    await recordAlerts(tx, warnings, { prescriptionId: rx.id, patientId: patient.id, raisedBy: userId });
    const blocking = await tx.safetyAlert.findMany({ where: { prescriptionId: rx.id, severity: 'CONTRAINDICATED', overriddenBy: null } });
    if (blocking.length > 0) {
      if (!args.overrideReason) {
        throw new ConflictError(`Contraindicated: ${blocking.map((a) => a.message).join('; ')}. A pharmacist may override with a reason.`, {
          reason: SupplyReason.SAFETY_OVERRIDE_REQUIRED,
        });
      }
      const now = new Date();
      await tx.safetyAlert.updateMany({ where: { id: { in: blocking.map((a) => a.id) } }, data: { overriddenBy: userId, overriddenAt: now, overrideReason: args.overrideReason } });
      await recordAudit(tx, {
        ...auditOf(ctx),
        action: 'OVERRIDE_SAFETY_ALERT',
        entityType: 'Prescription',
        entityId: rx.id,
        branchId: rx.branch_id,
        newValues: { reason: args.overrideReason, alerts: blocking.map((a) => ({ id: a.id, message: a.message })) },
      });
      await tx.complianceEvent.create({
        data: {
          branchId: rx.branch_id,
          eventType: 'SAFETY_OVERRIDE',
          severity: 'high',
          description: `Contraindicated warning overridden on ${rx.prescription_number}`,
          data: { prescriptionId: rx.id, patientId: patient.id, reason: args.overrideReason, alerts: blocking.map((a) => a.message) },
          reportedBy: userId,
        },
      });
    }

    // The sale this fill becomes is booked to the pharmacist's own open session (lock order 2).
    const session = await ownOpenSession(tx, principal, rx.branch_id, args.tillSessionId, 'tillSessionId');
    const saleId = randomUUID();

    // Every product's stock locked up front in key order: two fills over the same products queue.
    await lockStockKeys(tx, items.map((i) => ({ branchId: rx.branch_id, productId: i.product_id })));
    const actor = actorOf(ctx);
    const takes: ItemTake[] = [];
    const allocations: Allocation[] = [];
    for (const item of items) {
      const wanted = item.quantity - item.quantity_dispensed;
      if (wanted <= 0) continue;
      const line = { productId: item.product_id, notExpiringBefore: item.course_days ? addDays(today, item.course_days) : null };
      const request = (quantity: number) =>
        allocateStock(tx, actor, {
          branchId: rx.branch_id,
          today,
          type: 'DISPENSE',
          lines: [{ ...line, quantity }],
          // The register reads the prescription number; the movement points at the sale it became.
          reference: rx.prescription_number,
          referenceId: saleId,
          patientId: patient.id,
          prescriptionId: rx.id,
        });
      let taken: Allocation[] = [];
      try {
        taken = (await request(wanted)).movements;
      } catch (err) {
        // Short stock fills what there is; the rest stays for a later fill.
        if (!(err instanceof ConflictError) || err.extensions.reason !== 'INSUFFICIENT_STOCK') throw err;
        const available = Number(err.extensions.available);
        if (available > 0) taken = (await request(available)).movements;
      }
      const quantity = taken.reduce((n, a) => n + a.taken, 0);
      if (quantity > 0) {
        takes.push({ itemId: item.id, prescriptionId: rx.id, productId: item.product_id, quantity });
        allocations.push(...taken);
      }
    }
    if (takes.length === 0) throw new ConflictError('No stock at this branch to dispense any item of the prescription', { reason: 'INSUFFICIENT_STOCK' });

    const { priced, pricesIncludeTax } = priceAllocations(products, allocations, '0.00');
    // The sale is written unnumbered: the branch's sale number is this transaction's last statement
    // (numberSale, the supply path's lock order), since every sale of the branch queues on it.
    await writeSale(tx, {
      id: saleId,
      saleNumber: null,
      branchId: rx.branch_id,
      tillSessionId: session.id,
      patientId: patient.id,
      cashierId: userId,
      paymentMethod: 'CASH',
      prescriptionIds: [rx.id],
      pricesIncludeTax,
      priced,
      plan: UNPAID,
      event: null,
    });
    // The fills name the sale, so they follow it.
    await applySupply(tx, takes, allocations, { userId, isPharmacist: principal.role === 'PHARMACIST', saleId });

    for (const t of takes) {
      const product = products.get(t.productId)!;
      if (!product.controlled_substance) continue;
      const batches = allocations.filter((a) => a.productId === t.productId);
      await tx.complianceEvent.create({
        data: {
          branchId: rx.branch_id,
          eventType: 'CONTROLLED_SUBSTANCE_DISPENSED',
          severity: 'high',
          description: `${t.quantity} x ${product.name} dispensed on ${rx.prescription_number}`,
          data: {
            prescriptionId: rx.id,
            patientId: patient.id,
            productId: product.id,
            quantity: t.quantity,
            saleId,
            batches: batches.map((a) => ({ batchNumber: a.batchNumber, quantity: a.taken })),
          },
          reportedBy: userId,
        },
      });
    }
    const after = await tx.prescription.findUniqueOrThrow({ where: { id: rx.id }, select: { status: true } });
    const complete = after.status === 'DISPENSED';
    await recordEvent(tx, {
      eventType: 'prescription.dispensed',
      serviceName: 'pharmacy',
      aggregateId: rx.id,
      data: {
        prescriptionId: rx.id,
        prescriptionNumber: rx.prescription_number,
        patientId: patient.id,
        complete,
        saleId,
        items: takes.map((t) => ({ productId: t.productId, quantity: t.quantity })),
      },
      metadata: { tenantId: tenant.id, branchId: rx.branch_id, userId, correlationId: ctx.requestId },
    });
    // Last: the sale's number, and the audit row that records it, in one statement.
    await numberSale(tx, {
      id: saleId,
      branchCode: branch.code,
      event: null,
      also: [
        auditRowFrom(
          {
            ...auditOf(ctx),
            action: 'DISPENSE',
            entityType: 'Prescription',
            entityId: rx.id,
            branchId: rx.branch_id,
            oldValues: { status: rx.status },
            newValues: {
              status: after.status,
              saleId,
              totalAmount: priced.totalAmount,
              items: takes.map((t) => ({ productId: t.productId, batches: allocations.filter((a) => a.productId === t.productId).map((a) => [a.batchNumber, a.taken]) })),
            },
          },
          { from: sql`numbered n`, newValues: sql`jsonb_build_object('saleNumber', n.sale_number)` },
        ),
      ],
    });
    return rx.id;
  });
}
