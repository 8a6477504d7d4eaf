import { z } from 'zod';
import Decimal from 'decimal.js';
import { afterTimeCursor, BadUserInputError, ConflictError, NotFoundError, pageSizeSchema, parseInput, timeCursor, toConnection, uuidSchema } from '@umi/kit';
import { recordAudit, type TenantTx } from '@umi/db';
import type { PurchaseOrder } from '@umi/db/tenant-models';
import { lockRow, nextNumber, receiveStock as receiveIntoBatch } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { actorOf, auditOf, branchToday, requireBranch } from '../policy';
import type { InventoryContext } from '../context';
import { decimalSchema } from './money';

const optionalText = (max: number) => z.string().trim().max(max).nullish().transform((v) => (v ? v : null));

const supplierSchema = z.object({
  name: z.string().trim().min(1, 'is required').max(255),
  contactPerson: optionalText(255),
  phone: optionalText(50),
  email: z.string().trim().toLowerCase().email().max(255).nullish(),
  address: optionalText(500),
  tpin: z.string().trim().regex(/^\d{10}$/, 'must be the 10-digit ZRA TPIN').nullish(),
});

export async function createSupplier(ctx: InventoryContext, input: unknown) {
  const { db } = requireTenant(ctx);
  const data = parseInput(supplierSchema, input);
  return db.transaction(async (tx) => {
    const supplier = await tx.supplier.create({ data: { ...data, email: data.email ?? null, tpin: data.tpin ?? null } });
    await recordAudit(tx, { ...auditOf(ctx), action: 'CREATE', entityType: 'Supplier', entityId: supplier.id, newValues: supplier });
    return supplier;
  });
}

export function listSuppliers(ctx: InventoryContext, includeInactive: boolean) {
  return requireTenant(ctx).db.supplier.findMany({ where: includeInactive ? {} : { isActive: true }, orderBy: [{ name: 'asc' }, { id: 'asc' }] });
}

const createSchema = z.object({
  branchId: uuidSchema,
  supplierId: uuidSchema,
  expectedDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').nullish(),
  notes: optionalText(2000),
  items: z
    .array(z.object({ productId: uuidSchema, quantity: z.number().int().min(1, 'must be above zero').max(10_000_000), unitCost: decimalSchema }))
    .min(1, 'must have at least one line')
    .max(500)
    .refine((items) => new Set(items.map((i) => i.productId.toLowerCase())).size === items.length, 'must list each product once'),
});

/** Drafts an order to a supplier for one branch. */
export async function createPurchaseOrder(ctx: InventoryContext, input: unknown) {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(createSchema, input);
  const branch = await requireBranch(ctx, data.branchId, 'receive', 'input.branchId');
  return db.transaction(async (tx) => {
    const supplier = await tx.supplier.findUnique({ where: { id: data.supplierId } });
    if (!supplier) throw new NotFoundError('Supplier', { field: 'input.supplierId' });
    if (!supplier.isActive) throw new BadUserInputError('input.supplierId: the supplier is inactive');
    const products = await tx.product.findMany({ where: { id: { in: data.items.map((i) => i.productId) }, deletedAt: null, isActive: true }, select: { id: true } });
    const known = new Set(products.map((p) => p.id));
    const unknown = data.items.findIndex((i) => !known.has(i.productId.toLowerCase()));
    if (unknown >= 0) throw new NotFoundError('Product', { field: `input.items[${unknown}].productId` });
    const seq = await nextNumber(tx, `po:${branch.code}`);
    const po = await tx.purchaseOrder.create({
      data: {
        poNumber: `PO-${branch.code}-${String(seq).padStart(6, '0')}`,
        branchId: branch.id,
        supplierId: supplier.id,
        expectedDate: data.expectedDate ? new Date(`${data.expectedDate}T00:00:00Z`) : null,
        notes: data.notes,
        orderedBy: principal.userId,
        items: { create: data.items.map((i) => ({ productId: i.productId, quantityOrdered: i.quantity, unitCost: i.unitCost })) },
      },
    });
    await recordAudit(tx, { ...auditOf(ctx), action: 'CREATE', entityType: 'PurchaseOrder', entityId: po.id, branchId: branch.id, newValues: { ...po, items: data.items } });
    return po;
  });
}

/** The order, locked for the rest of the caller's transaction, after checking the caller's access to its branch. */
async function lockedOrder(ctx: InventoryContext, tx: TenantTx, id: string) {
  const poId = parseInput(uuidSchema, id, 'id');
  await lockRow(tx, 'purchase_orders', poId);
  const po = await tx.purchaseOrder.findUnique({ where: { id: poId }, include: { items: true } });
  if (!po) throw new NotFoundError('Purchase order', { field: 'id' });
  const branch = await requireBranch(ctx, po.branchId, 'receive');
  return { po, branch };
}

async function transition(ctx: InventoryContext, id: string, allowed: string[], to: string, extra: Partial<PurchaseOrder> = {}) {
  const { db } = requireTenant(ctx);
  return db.transaction(async (tx) => {
    const { po, branch } = await lockedOrder(ctx, tx, id);
    if (!allowed.includes(po.status)) throw new ConflictError(`The order is ${po.status}; it cannot become ${to}`);
    if (to === 'CANCELLED' && po.items.some((i) => i.quantityReceived > 0)) throw new ConflictError('Goods were received against this order; close it instead');
    const updated = await tx.purchaseOrder.update({ where: { id: po.id }, data: { status: to, ...extra } });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: to,
      entityType: 'PurchaseOrder',
      entityId: po.id,
      branchId: branch.id,
      oldValues: { status: po.status },
      newValues: { status: to },
    });
    return updated;
  });
}

export const sendPurchaseOrder = (ctx: InventoryContext, id: string) => transition(ctx, id, ['DRAFT'], 'SENT', { sentAt: new Date() });
export const cancelPurchaseOrder = (ctx: InventoryContext, id: string) => transition(ctx, id, ['DRAFT', 'SENT'], 'CANCELLED');

const receiveSchema = z.object({
  purchaseOrderId: uuidSchema,
  lines: z
    .array(
      z.object({
        productId: uuidSchema,
        batchNumber: z.string().trim().min(1, 'is required').max(100),
        expiryDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'),
        quantity: z.number().int().min(1, 'must be above zero').max(10_000_000),
        sellingPrice: decimalSchema,
        costPrice: decimalSchema.nullish(),
        location: z.string().trim().max(100).nullish(),
      }),
    )
    .min(1, 'must have at least one line')
    .max(500),
  deliveryReference: z.string().trim().min(1, 'must not be blank').max(100).nullish(),
});

/** Receives goods against a sent order: each line is a batch (GRN referencing the order). */
export async function receivePurchaseOrder(ctx: InventoryContext, input: unknown) {
  const { db } = requireTenant(ctx);
  const data = parseInput(receiveSchema, input);
  return db.transaction(async (tx) => {
    const { po, branch } = await lockedOrder(ctx, tx, data.purchaseOrderId);
    if (po.status !== 'SENT' && po.status !== 'PARTIALLY_RECEIVED') throw new ConflictError(`The order is ${po.status}; only a sent order receives goods`);
    const today = branchToday(branch);
    const received = new Map(po.items.map((i) => [i.productId, i.quantityReceived]));
    for (const [n, line] of data.lines.entries()) {
      const item = po.items.find((i) => i.productId === line.productId.toLowerCase());
      if (!item) throw new BadUserInputError(`input.lines[${n}].productId: the product is not on this order`, { field: `input.lines[${n}].productId` });
      if (line.expiryDate <= today) throw new BadUserInputError(`input.lines[${n}].expiryDate: the batch has expired`, { field: `input.lines[${n}].expiryDate` });
      await receiveIntoBatch(tx, actorOf(ctx), {
        branchId: branch.id,
        productId: item.productId,
        batchNumber: line.batchNumber,
        expiryDate: line.expiryDate,
        quantity: line.quantity,
        costPrice: line.costPrice ?? new Decimal(item.unitCost.toString()).toFixed(2),
        sellingPrice: line.sellingPrice,
        supplierId: po.supplierId,
        deliveryReference: data.deliveryReference ?? null,
        location: line.location ?? null,
        today,
        type: 'GRN',
        reference: po.poNumber,
        referenceId: po.id,
      });
      received.set(item.productId, (received.get(item.productId) ?? 0) + line.quantity);
    }
    for (const item of po.items) {
      const qty = received.get(item.productId)!;
      if (qty !== item.quantityReceived) await tx.purchaseOrderItem.update({ where: { id: item.id }, data: { quantityReceived: qty } });
    }
    const complete = po.items.every((i) => received.get(i.productId)! >= i.quantityOrdered);
    const updated = await tx.purchaseOrder.update({ where: { id: po.id }, data: { status: complete ? 'RECEIVED' : 'PARTIALLY_RECEIVED' } });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'RECEIVE',
      entityType: 'PurchaseOrder',
      entityId: po.id,
      branchId: branch.id,
      newValues: { status: updated.status, lines: data.lines, deliveryReference: data.deliveryReference ?? null },
    });
    return updated;
  });
}

const listSchema = z.object({
  branchId: uuidSchema,
  status: z.enum(['DRAFT', 'SENT', 'PARTIALLY_RECEIVED', 'RECEIVED', 'CLOSED', 'CANCELLED']).nullish(),
  first: pageSizeSchema,
  after: z.string().max(500).nullish(),
});

export async function listPurchaseOrders(ctx: InventoryContext, rawArgs: unknown) {
  const { db } = requireTenant(ctx);
  const args = parseInput(listSchema, rawArgs, 'args');
  const branch = await requireBranch(ctx, args.branchId, 'view');
  const rows = await db.purchaseOrder.findMany({
    where: { branchId: branch.id, ...(args.status ? { status: args.status } : {}), ...afterTimeCursor(args.after) },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: args.first + 1,
  });
  return toConnection(rows, args.first, timeCursor);
}

export async function getPurchaseOrder(ctx: InventoryContext, id: string) {
  const { db } = requireTenant(ctx);
  const poId = parseInput(uuidSchema, id, 'id');
  const po = await db.purchaseOrder.findUnique({ where: { id: poId } });
  if (!po) return null;
  await requireBranch(ctx, po.branchId, 'view');
  return po;
}
