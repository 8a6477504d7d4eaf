import { z } from 'zod';
import { BadUserInputError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit } from '@umi/db';
import { allocateStock, lockStockKeys, nextNumber, receiveStock as receiveIntoBatch } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { actorOf, auditOf, branchToday, requireBranch } from '../policy';
import type { InventoryContext } from '../context';

const transferSchema = z
  .object({
    fromBranchId: uuidSchema,
    toBranchId: uuidSchema,
    productId: uuidSchema,
    quantity: z.number().int('must be a whole number').min(1, 'must be above zero').max(10_000_000),
    notes: z.string().trim().max(1000).nullish(),
  })
  .refine((v) => v.fromBranchId.toLowerCase() !== v.toBranchId.toLowerCase(), {
    message: 'must differ from fromBranchId',
    path: ['toBranchId'],
  });

/**
 * Moves stock of one product between two branches of the tenant in one transaction: taken FEFO
 * from the source (TRANSFER_OUT) and received at the destination as the same batches, with the same
 * numbers, expiry dates and prices (TRANSFER_IN). Either all of it moves or none.
 */
export async function transferStock(ctx: InventoryContext, input: unknown) {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(transferSchema, input);
  const from = await requireBranch(ctx, data.fromBranchId, 'transfer', 'input.fromBranchId');
  const to = await requireBranch(ctx, data.toBranchId, 'transferTo', 'input.toBranchId');
  if (!from.isActive || !to.isActive) throw new BadUserInputError('Both branches must be active');
  const actor = actorOf(ctx);
  return db.transaction(async (tx) => {
    const product = await tx.product.findFirst({ where: { id: data.productId, deletedAt: null }, select: { id: true, isActive: true } });
    if (!product) throw new NotFoundError('Product', { field: 'input.productId' });
    if (!product.isActive) throw new BadUserInputError('input.productId: the product is inactive');
    // Both ends locked up front, in key order: opposite transfers of one product queue, never deadlock.
    await lockStockKeys(tx, [
      { branchId: from.id, productId: product.id },
      { branchId: to.id, productId: product.id },
    ]);
    const now = new Date();
    const transfer = await tx.stockTransfer.create({
      data: {
        transferNumber: `TRF-${String(await nextNumber(tx, 'transfer')).padStart(6, '0')}`,
        fromBranchId: from.id,
        toBranchId: to.id,
        status: 'RECEIVED',
        notes: data.notes ?? null,
        requestedBy: principal.userId,
        dispatchedBy: principal.userId,
        receivedBy: principal.userId,
        dispatchedAt: now,
        receivedAt: now,
      },
    });
    const out = await allocateStock(tx, actor, {
      branchId: from.id,
      today: branchToday(from),
      type: 'TRANSFER_OUT',
      lines: [{ productId: product.id, quantity: data.quantity }],
      reference: transfer.transferNumber,
      referenceId: transfer.id,
    });
    for (const a of out.movements) {
      const into = await receiveIntoBatch(tx, actor, {
        branchId: to.id,
        productId: product.id,
        batchNumber: a.batchNumber,
        expiryDate: a.expiryDate,
        quantity: a.taken,
        costPrice: a.costPrice,
        sellingPrice: a.sellingPrice,
        today: branchToday(to),
        type: 'TRANSFER_IN',
        reference: transfer.transferNumber,
        referenceId: transfer.id,
      });
      await tx.stockTransferItem.create({
        data: {
          transferId: transfer.id,
          productId: product.id,
          fromBatchId: a.batchId,
          toBatchId: into.batchId,
          batchNumber: a.batchNumber,
          expiryDate: new Date(`${a.expiryDate}T00:00:00Z`),
          quantity: a.taken,
        },
      });
    }
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'TRANSFER',
      entityType: 'StockTransfer',
      entityId: transfer.id,
      branchId: from.id,
      newValues: { ...transfer, productId: product.id, quantity: data.quantity },
    });
    return transfer;
  });
}

/** Transfers from or to a branch, newest first. */
export async function stockTransfers(ctx: InventoryContext, args: { branchId: string; first: number }) {
  const { db } = requireTenant(ctx);
  const branch = await requireBranch(ctx, args.branchId, 'view');
  const first = parseInput(z.number().int().min(1).max(100), args.first, 'first');
  return db.stockTransfer.findMany({
    where: { OR: [{ fromBranchId: branch.id }, { toBranchId: branch.id }] },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: first,
  });
}

