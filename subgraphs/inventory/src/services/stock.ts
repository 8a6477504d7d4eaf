import { z } from 'zod';
import { addDays, afterTimeCursor, BadUserInputError, ConflictError, NotFoundError, pageSizeSchema, parseInput, timeCursor, toConnection, uuidSchema } from '@umi/kit';
import { recordAudit, type TenantTx } from '@umi/db';
import { lockRow, lockStockKeys, moveBatches, receiveStock as receiveIntoBatch } from '@umi/ledger';
import { requireTenant, requireWitness } from '@umi/subgraph';
import { actorOf, auditOf, branchToday, requireBranch, type BranchNeed } from '../policy';
import type { InventoryContext } from '../context';
import type { StockKey, StockRow } from '../loaders';
import { decimalSchema } from './money';

const quantitySchema = z.number().int('must be a whole number').min(1, 'must be above zero').max(10_000_000);
const dateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

const receiveSchema = z.object({
  branchId: uuidSchema,
  productId: uuidSchema,
  batchNumber: z.string().trim().min(1, 'is required').max(100),
  expiryDate: dateSchema,
  quantity: quantitySchema,
  costPrice: decimalSchema,
  sellingPrice: decimalSchema,
  reorderLevel: z.number().int().min(0).max(1_000_000).nullish(),
  reorderQuantity: z.number().int().min(0).max(1_000_000).nullish(),
  supplierId: uuidSchema.nullish(),
  location: z.string().trim().max(100).nullish(),
  deliveryReference: z.string().trim().min(1, 'must not be blank').max(100).nullish(),
});

/** An active product of the tenant, or NOT_FOUND naming the field. */
async function activeProduct(tx: TenantTx, productId: string, field: string) {
  const product = await tx.product.findFirst({ where: { id: productId, deletedAt: null } });
  if (!product) throw new NotFoundError('Product', { field });
  if (!product.isActive) throw new BadUserInputError(`${field}: the product is inactive`, { field });
  return product;
}

/** Receives a batch at a branch (GRN); optionally sets the branch's reorder rule for the product. */
export async function receiveStock(ctx: InventoryContext, input: unknown) {
  const { db } = requireTenant(ctx);
  const data = parseInput(receiveSchema, input);
  const branch = await requireBranch(ctx, data.branchId, 'receive', 'input.branchId');
  const today = branchToday(branch);
  if (data.expiryDate <= today) {
    throw new BadUserInputError('input.expiryDate: the batch has expired; expired stock cannot be received', { field: 'input.expiryDate' });
  }
  const batchId = await db.transaction(async (tx) => {
    await activeProduct(tx, data.productId, 'input.productId');
    if (data.supplierId) {
      const supplier = await tx.supplier.findUnique({ where: { id: data.supplierId }, select: { id: true } });
      if (!supplier) throw new NotFoundError('Supplier', { field: 'input.supplierId' });
    }
    if (data.reorderLevel != null || data.reorderQuantity != null) {
      const rule = {
        ...(data.reorderLevel != null ? { reorderLevel: data.reorderLevel } : {}),
        ...(data.reorderQuantity != null ? { reorderQuantity: data.reorderQuantity } : {}),
      };
      await tx.productBranchSetting.upsert({
        where: { productId_branchId: { productId: data.productId, branchId: branch.id } },
        create: { productId: data.productId, branchId: branch.id, ...rule },
        update: rule,
      });
    }
    const r = await receiveIntoBatch(tx, actorOf(ctx), {
      branchId: branch.id,
      productId: data.productId,
      batchNumber: data.batchNumber,
      expiryDate: data.expiryDate,
      quantity: data.quantity,
      costPrice: data.costPrice,
      sellingPrice: data.sellingPrice,
      supplierId: data.supplierId ?? null,
      deliveryReference: data.deliveryReference ?? null,
      location: data.location ?? null,
      today,
      type: 'GRN',
      reference: `GRN ${data.batchNumber}`,
      referenceId: null,
    });
    return r.batchId;
  });
  return db.inventoryBatch.findUniqueOrThrow({ where: { id: batchId } });
}

const adjustSchema = z.object({
  inventoryId: uuidSchema,
  delta: z
    .number()
    .int('must be a whole number')
    .refine((d) => d !== 0, 'must not be zero')
    .refine((d) => Math.abs(d) <= 10_000_000, 'is too large'),
  reason: z.string().trim().min(3, 'is required (at least 3 characters)').max(500),
  witnessUserId: uuidSchema.nullish(),
});

/**
 * The witness of taking stock off: checked whenever one is named, and required (WITNESS_REQUIRED)
 * when the stock is of a controlled substance. The ledger refuses an unwitnessed controlled
 * write-off too; asking first names the field.
 */
async function witnessFor(ctx: InventoryContext, controlled: boolean, witnessUserId: string | null | undefined, branchId: string, field: string) {
  if (!controlled && !witnessUserId) return null;
  return requireWitness(ctx, witnessUserId, branchId, field);
}

async function isControlled(ctx: InventoryContext, productId: string): Promise<boolean> {
  const product = await ctx.loaders.productById.load(productId);
  return product?.controlledSubstance === true;
}

/** A batch of the tenant with its branch, checked for the caller's access. */
async function batchAt(ctx: InventoryContext, id: string, need: BranchNeed, field: string) {
  const { db } = requireTenant(ctx);
  const batch = await db.inventoryBatch.findUnique({ where: { id } });
  if (!batch) throw new NotFoundError('Batch', { field });
  const branch = await requireBranch(ctx, batch.branchId, need, field);
  return { batch, branch };
}

/** Corrects a batch's quantity with a reason; the result may not go below zero. */
export async function adjustStock(ctx: InventoryContext, input: unknown) {
  const { db } = requireTenant(ctx);
  const data = parseInput(adjustSchema, input);
  const { batch, branch } = await batchAt(ctx, data.inventoryId, 'manage', 'input.inventoryId');
  const witnessId = await witnessFor(ctx, data.delta < 0 && (await isControlled(ctx, batch.productId)), data.witnessUserId, branch.id, 'input.witnessUserId');
  await db.transaction(async (tx) => {
    try {
      await moveBatches(tx, actorOf(ctx), {
        branchId: branch.id,
        today: branchToday(branch),
        moves: [{ batchId: batch.id, delta: data.delta, type: 'ADJUSTMENT', reason: data.reason, reference: 'ADJUSTMENT' }],
        witnessId,
      });
    } catch (err) {
      if (err instanceof ConflictError && err.extensions.reason === 'INSUFFICIENT_STOCK') {
        throw new BadUserInputError(`input.delta: the batch holds ${batch.quantityOnHand}; stock cannot go below zero`, { field: 'input.delta' });
      }
      throw err;
    }
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'ADJUST',
      entityType: 'InventoryBatch',
      entityId: batch.id,
      branchId: branch.id,
      newValues: { delta: data.delta, reason: data.reason, witnessId },
    });
  });
  return db.inventoryBatch.findUniqueOrThrow({ where: { id: batch.id } });
}

const statusSchema = z.object({
  id: uuidSchema,
  status: z.enum(['AVAILABLE', 'ON_HOLD', 'QUARANTINE', 'DESTROYED']),
  reason: z.string().trim().min(3, 'is required (at least 3 characters)').max(500),
  witnessUserId: uuidSchema.nullish(),
});

/** Statuses a batch never leaves. */
const FINAL_STATUSES: ReadonlySet<string> = new Set(['EXPIRED', 'DEPLETED', 'DESTROYED']);

/**
 * Holds or quarantines a batch (recalls), or releases it; never allocated while not AVAILABLE.
 * DESTROYED writes its remaining stock off (an ADJUSTMENT whose reason says so), witnessed when
 * the product is controlled, and is final.
 */
export async function setBatchStatus(ctx: InventoryContext, args: unknown) {
  const { db } = requireTenant(ctx);
  const data = parseInput(statusSchema, args, 'args');
  const { batch, branch } = await batchAt(ctx, data.id, 'receive', 'id');
  if (FINAL_STATUSES.has(batch.status)) throw new ConflictError(`The batch is ${batch.status} and cannot change status`);
  if (batch.quarantineOf) throw new ConflictError('A quarantine batch of returned stock is released or written off (releaseQuarantine, writeOffQuarantine), not given a status', { reason: 'QUARANTINE_BATCH' });
  const destroying = data.status === 'DESTROYED';
  const witnessId = destroying
    ? await witnessFor(ctx, batch.quantityOnHand > 0 && (await isControlled(ctx, batch.productId)), data.witnessUserId, branch.id, 'witnessUserId')
    : null;
  return db.transaction(async (tx) => {
    // The stock key first, then the batch: the ledger's lock order, so this queues behind
    // allocations of the product at the branch instead of deadlocking with them.
    await lockStockKeys(tx, [{ branchId: branch.id, productId: batch.productId }]);
    await lockRow(tx, 'inventory_batches', batch.id);
    const current = await tx.inventoryBatch.findUniqueOrThrow({ where: { id: batch.id } });
    if (FINAL_STATUSES.has(current.status)) throw new ConflictError(`The batch is ${current.status} and cannot change status`);
    if (destroying && current.quantityOnHand > 0) {
      await moveBatches(tx, actorOf(ctx), {
        branchId: branch.id,
        today: branchToday(branch),
        moves: [{ batchId: batch.id, delta: -current.quantityOnHand, type: 'ADJUSTMENT', reason: `destroyed: ${data.reason}`, reference: 'DESTRUCTION' }],
        witnessId,
      });
    }
    const updated = await tx.inventoryBatch.update({ where: { id: batch.id }, data: { status: data.status } });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: destroying ? 'DESTROY' : 'SET_STATUS',
      entityType: 'InventoryBatch',
      entityId: batch.id,
      branchId: branch.id,
      oldValues: { status: current.status, quantityOnHand: current.quantityOnHand },
      newValues: { status: data.status, reason: data.reason, ...(destroying ? { destroyed: current.quantityOnHand, witnessId } : {}) },
    });
    return updated;
  });
}

/**
 * Writes off every batch at the branch that has expired (EXPIRY_WRITE_OFF to zero) and marks it
 * EXPIRED. A witness is required when any of them is of a controlled substance.
 */
export async function writeOffExpiredStock(ctx: InventoryContext, args: { branchId: string; witnessUserId?: string | null }) {
  const { db } = requireTenant(ctx);
  const branch = await requireBranch(ctx, args.branchId, 'receive');
  const today = branchToday(branch);
  const named = args.witnessUserId ? await requireWitness(ctx, args.witnessUserId, branch.id, 'witnessUserId') : null;
  return db.transaction(async (tx) => {
    const expired = await tx.inventoryBatch.findMany({
      where: { branchId: branch.id, quantityOnHand: { gt: 0 }, expiryDate: { lte: new Date(`${today}T00:00:00Z`) } },
      include: { product: { select: { controlledSubstance: true } } },
      orderBy: [{ productId: 'asc' }, { id: 'asc' }],
    });
    if (expired.length === 0) return [];
    const witnessId = named ?? (await witnessFor(ctx, expired.some((b) => b.product.controlledSubstance), null, branch.id, 'witnessUserId'));
    await moveBatches(tx, actorOf(ctx), {
      branchId: branch.id,
      today,
      moves: expired.map((b) => ({ batchId: b.id, delta: -b.quantityOnHand, type: 'EXPIRY_WRITE_OFF' as const, reason: 'expired', reference: 'EXPIRY' })),
      witnessId,
    });
    await tx.inventoryBatch.updateMany({ where: { id: { in: expired.map((b) => b.id) } }, data: { status: 'EXPIRED' } });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'WRITE_OFF_EXPIRED',
      entityType: 'InventoryBatch',
      entityId: null,
      branchId: branch.id,
      newValues: { witnessId, batches: expired.map((b) => ({ id: b.id, batchNumber: b.batchNumber, quantity: b.quantityOnHand })) },
    });
    return tx.inventoryBatch.findMany({ where: { id: { in: expired.map((b) => b.id) } }, orderBy: [{ expiryDate: 'asc' }, { id: 'asc' }] });
  });
}

/** Batches holding stock that expire within `withinDays` (expired ones included), soonest first. */
export async function expiringBatches(ctx: InventoryContext, args: { branchId: string; withinDays: number }) {
  const { db } = requireTenant(ctx);
  const withinDays = parseInput(z.number().int().min(0, 'must not be negative').max(3650, 'must be at most 3650'), args.withinDays, 'withinDays');
  const branch = await requireBranch(ctx, args.branchId, 'view');
  const until = addDays(branchToday(branch), withinDays);
  return db.inventoryBatch.findMany({
    where: { branchId: branch.id, quantityOnHand: { gt: 0 }, expiryDate: { lte: new Date(`${until}T00:00:00Z`) } },
    orderBy: [{ expiryDate: 'asc' }, { id: 'asc' }],
    take: 1000,
  });
}

const movementsSchema = z.object({
  branchId: uuidSchema,
  productId: uuidSchema.nullish(),
  first: pageSizeSchema,
  after: z.string().max(500).nullish(),
});

/** The branch's ledger, newest first, keyset-paginated on (createdAt, id). */
export async function stockMovements(ctx: InventoryContext, rawArgs: unknown) {
  const { db } = requireTenant(ctx);
  const args = parseInput(movementsSchema, rawArgs, 'args');
  const branch = await requireBranch(ctx, args.branchId, 'view');
  const rows = await db.stockMovement.findMany({
    where: { branchId: branch.id, ...(args.productId ? { productId: args.productId } : {}), ...afterTimeCursor(args.after) },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: args.first + 1,
  });
  // A till sale's movements are written before the sale has its number and name it by id only;
  // the page shows the number, read in one query for the page.
  const unnamed = [...new Set(rows.flatMap((r) => (r.reference === null && r.type === 'SALE' && r.referenceId ? [r.referenceId] : [])))];
  if (unnamed.length > 0) {
    const numbers = new Map((await db.sale.findMany({ where: { id: { in: unnamed } }, select: { id: true, saleNumber: true } })).map((s) => [s.id, s.saleNumber]));
    for (const r of rows) if (r.reference === null && r.type === 'SALE' && r.referenceId) r.reference = numbers.get(r.referenceId) ?? null;
  }
  return toConnection(rows, args.first, timeCursor);
}

/** Every product held or configured at the branch, batches summed, by product name. */
export async function branchStock(ctx: InventoryContext, branchId: string, lowStockOnly: boolean): Promise<StockRow[]> {
  const branch = await requireBranch(ctx, branchId, 'view');
  const rows = await ctx.loaders.branchStock.load({ branchId: branch.id, today: branchToday(branch) });
  return lowStockOnly ? rows.filter((r) => r.quantityAvailable <= r.reorderLevel) : rows;
}

/** The stock key of a product at a branch the caller may see, on that branch's date (FORBIDDEN, NOT_FOUND otherwise). */
export async function stockKeyAt(ctx: InventoryContext, branchId: string, productId: string): Promise<StockKey> {
  const branch = await requireBranch(ctx, branchId, 'view');
  return { branchId: branch.id, productId, today: branchToday(branch) };
}

export interface LowStockEvent {
  id: string;
  productId: string;
  branchId: string;
  quantityAvailable: number;
  reorderLevel: number;
  occurredAt: Date;
}

/** The low-stock alert recorded with this event id (the outbox row the relay published). */
export async function lowStockEvent(ctx: InventoryContext, id: string): Promise<LowStockEvent | null> {
  const { db } = requireTenant(ctx);
  const row = await db.outboxEvent.findFirst({ where: { id: parseInput(uuidSchema, id, 'id'), eventType: 'inventory.low_stock' } });
  if (!row) return null;
  const data = (row.payload as { data?: Record<string, unknown> }).data ?? {};
  const branch = await requireBranch(ctx, String(data.branchId), 'view', 'id');
  return {
    id: row.id,
    productId: String(data.productId),
    branchId: branch.id,
    quantityAvailable: Number(data.quantityAvailable),
    reorderLevel: Number(data.reorderLevel),
    occurredAt: row.createdAt,
  };
}
