import { z } from 'zod';
import { addDays, ConflictError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit } from '@umi/db';
import { recordEvent } from '@umi/events';
import { allocateStock, lockStockKeys, type Allocation } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { actorOf, auditOf, branchDate, requireBranch } from '../policy';
import type { PharmacyContext } from '../context';
import { lockPrescription } from './prescriptions';
import { recordAlerts, runSafetyCheck } from './safety';

const argsSchema = z.object({ id: uuidSchema, overrideReason: z.string().trim().min(5, 'must say why (at least 5 characters)').max(1000).nullish() });

/**
 * Fills a prescription from the branch's stock in one transaction (PHARMACIST of the branch):
 * the safety check runs again (the patient may have new prescriptions), an unresolved
 * CONTRAINDICATED warning needs an override reason, each item takes what stock allows
 * first-expiry-first-out (skipping batches that expire before the course ends), and controlled
 * products get their register line and a high-severity compliance event. A prescription with
 * nothing left to fill, cancelled or expired is CONFLICT.
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
    const rx = await lockPrescription(tx, args.id);
    if (rx.status === 'DISPENSED') throw new ConflictError('The prescription has already been dispensed in full', { reason: 'ALREADY_DISPENSED' });
    if (rx.status === 'CANCELLED') throw new ConflictError('The prescription is cancelled');
    if (rx.validUntil.toISOString().slice(0, 10) < today) throw new ConflictError('The prescription has expired', { reason: 'EXPIRED' });
    const patient = await tx.patient.findUniqueOrThrow({ where: { id: rx.patientId } });
    const items = await tx.prescriptionItem.findMany({ where: { prescriptionId: rx.id }, orderBy: [{ lineNo: 'asc' }, { id: 'asc' }] });
    const products = await tx.product.findMany({ where: { id: { in: items.map((i) => i.productId) } } });
    const productById = new Map(products.map((p) => [p.id, p]));

    const warnings = await runSafetyCheck(tx, {
      items: items.map((i) => productById.get(i.productId)!),
      patient,
      excludePrescriptionId: rx.id,
      prescriber: { name: rx.prescriberName, license: rx.prescriberLicense },
      today,
    });
    await recordAlerts(tx, warnings, { prescriptionId: rx.id, patientId: patient.id, raisedBy: userId });
    const blocking = await tx.safetyAlert.findMany({ where: { prescriptionId: rx.id, severity: 'CONTRAINDICATED', overriddenBy: null } });
    if (blocking.length > 0) {
      if (!args.overrideReason) {
        throw new ConflictError(`Contraindicated: ${blocking.map((a) => a.message).join('; ')}. A pharmacist may override with a reason.`, {
          reason: 'SAFETY_OVERRIDE_REQUIRED',
        });
      }
      const now = new Date();
      await tx.safetyAlert.updateMany({ where: { id: { in: blocking.map((a) => a.id) } }, data: { overriddenBy: userId, overriddenAt: now, overrideReason: args.overrideReason } });
      await recordAudit(tx, {
        ...auditOf(ctx),
        action: 'OVERRIDE_SAFETY_ALERT',
        entityType: 'Prescription',
        entityId: rx.id,
        branchId: rx.branchId,
        newValues: { reason: args.overrideReason, alerts: blocking.map((a) => ({ id: a.id, message: a.message })) },
      });
      await tx.complianceEvent.create({
        data: {
          branchId: rx.branchId,
          eventType: 'SAFETY_OVERRIDE',
          severity: 'high',
          description: `Contraindicated warning overridden on ${rx.prescriptionNumber}`,
          data: { prescriptionId: rx.id, patientId: patient.id, reason: args.overrideReason, alerts: blocking.map((a) => a.message) },
          reportedBy: userId,
        },
      });
    }

    // Every product's stock locked up front in key order: two fills over the same products queue.
    await lockStockKeys(tx, items.map((i) => ({ branchId: rx.branchId, productId: i.productId })));
    const actor = actorOf(ctx);
    const filled: { itemId: string; productId: string; allocations: Allocation[] }[] = [];
    for (const item of items) {
      const wanted = item.quantity - item.quantityDispensed;
      if (wanted <= 0) continue;
      const line = { productId: item.productId, notExpiringBefore: item.courseDays ? addDays(today, item.courseDays) : null };
      const request = (quantity: number) =>
        allocateStock(tx, actor, {
          branchId: rx.branchId,
          today,
          type: 'DISPENSE',
          lines: [{ ...line, quantity }],
          reference: rx.prescriptionNumber,
          referenceId: rx.id,
          patientId: patient.id,
          prescriptionId: rx.id,
        });
      let taken: Allocation[] = [];
      try {
        taken = (await request(wanted)).movements;
      } catch (err) {
        // Short stock fills what there is; the rest stays for a later fill.
        const available = err instanceof ConflictError && err.extensions.reason === 'INSUFFICIENT_STOCK' ? Number(err.extensions.available) : 0;
        if (!(err instanceof ConflictError) || err.extensions.reason !== 'INSUFFICIENT_STOCK') throw err;
        if (available > 0) taken = (await request(available)).movements;
      }
      if (taken.length > 0) filled.push({ itemId: item.id, productId: item.productId, allocations: taken });
    }
    if (filled.length === 0) throw new ConflictError('No stock at this branch to dispense any item of the prescription', { reason: 'INSUFFICIENT_STOCK' });

    const now = new Date();
    for (const f of filled) {
      const quantity = f.allocations.reduce((n, a) => n + a.taken, 0);
      await tx.dispensedItem.createMany({
        data: f.allocations.map((a) => ({ prescriptionItemId: f.itemId, batchId: a.batchId, quantity: a.taken, dispensedBy: userId, dispensedAt: now })),
      });
      await tx.prescriptionItem.update({ where: { id: f.itemId }, data: { quantityDispensed: { increment: quantity } } });
      const product = productById.get(f.productId)!;
      if (product.controlledSubstance) {
        await tx.complianceEvent.create({
          data: {
            branchId: rx.branchId,
            eventType: 'CONTROLLED_SUBSTANCE_DISPENSED',
            severity: 'high',
            description: `${quantity} x ${product.name} dispensed on ${rx.prescriptionNumber}`,
            data: {
              prescriptionId: rx.id,
              patientId: patient.id,
              productId: product.id,
              quantity,
              batches: f.allocations.map((a) => ({ batchNumber: a.batchNumber, quantity: a.taken })),
            },
            reportedBy: userId,
          },
        });
      }
    }
    const after = await tx.prescriptionItem.findMany({ where: { prescriptionId: rx.id } });
    const complete = after.every((i) => i.quantityDispensed >= i.quantity);
    await tx.prescription.update({
      where: { id: rx.id },
      data: {
        status: complete ? 'DISPENSED' : 'PARTIALLY_DISPENSED',
        pharmacistId: userId,
        dispensedAt: now,
        ...(rx.verifiedBy ? {} : { verifiedBy: userId, verifiedAt: now }),
      },
    });
    await recordEvent(tx, {
      eventType: 'prescription.dispensed',
      serviceName: 'pharmacy',
      aggregateId: rx.id,
      data: {
        prescriptionId: rx.id,
        prescriptionNumber: rx.prescriptionNumber,
        patientId: patient.id,
        complete,
        items: filled.map((f) => ({ productId: f.productId, quantity: f.allocations.reduce((n, a) => n + a.taken, 0) })),
      },
      metadata: { tenantId: tenant.id, branchId: rx.branchId, userId, correlationId: ctx.requestId },
    });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'DISPENSE',
      entityType: 'Prescription',
      entityId: rx.id,
      branchId: rx.branchId,
      oldValues: { status: rx.status },
      newValues: { status: complete ? 'DISPENSED' : 'PARTIALLY_DISPENSED', items: filled.map((f) => ({ productId: f.productId, batches: f.allocations.map((a) => [a.batchNumber, a.taken]) })) },
    });
    return rx.id;
  });
}
