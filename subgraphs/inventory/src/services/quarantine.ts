import { z } from 'zod';
import { BadUserInputError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit } from '@umi/db';
import { releaseQuarantine as releaseUnits, writeOffQuarantine as writeOffUnits } from '@umi/ledger';
import { requireTenant, requireWitness } from '@umi/subgraph';
import { actorOf, auditOf, branchToday, requireBranch } from '../policy';
import type { InventoryContext } from '../context';

const decisionSchema = z.object({
  batchId: uuidSchema,
  quantity: z.number().int('must be a whole number').min(1, 'must be above zero').max(10_000_000),
  reason: z.string().trim().min(3, 'is required (at least 3 characters)').max(500),
  witnessUserId: uuidSchema.nullish(),
});

/** The quarantine batch named by the input, at a branch where the caller may decide on quarantine. */
async function quarantineBatch(ctx: InventoryContext, input: unknown) {
  const data = parseInput(decisionSchema, input);
  const batch = await requireTenant(ctx).db.inventoryBatch.findUnique({ where: { id: data.batchId } });
  if (!batch) throw new NotFoundError('Batch', { field: 'input.batchId' });
  const branch = await requireBranch(ctx, batch.branchId, 'quarantine', 'input.batchId');
  if (!batch.quarantineOf) throw new BadUserInputError('input.batchId: not a quarantine batch of returned stock', { field: 'input.batchId' });
  return { data, batch, branch };
}

/** Releases quarantined units into their lot (on sale again); returns the lot. */
export async function releaseQuarantine(ctx: InventoryContext, input: unknown) {
  const { db } = requireTenant(ctx);
  const { data, batch, branch } = await quarantineBatch(ctx, input);
  const lotId = await db.transaction(async (tx) => {
    const r = await releaseUnits(tx, actorOf(ctx), { branchId: branch.id, today: branchToday(branch), batchId: batch.id, quantity: data.quantity, reason: data.reason });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'RELEASE_QUARANTINE',
      entityType: 'InventoryBatch',
      entityId: batch.id,
      branchId: branch.id,
      newValues: { lotBatchId: r.lotBatchId, quantity: data.quantity, reason: data.reason },
    });
    return r.lotBatchId;
  });
  return db.inventoryBatch.findUniqueOrThrow({ where: { id: lotId } });
}

/** Writes quarantined units off for good; returns the quarantine batch. */
export async function writeOffQuarantine(ctx: InventoryContext, input: unknown) {
  const { db } = requireTenant(ctx);
  const { data, batch, branch } = await quarantineBatch(ctx, input);
  const product = await ctx.loaders.productById.load(batch.productId);
  const witnessId =
    product?.controlledSubstance || data.witnessUserId ? await requireWitness(ctx, data.witnessUserId, branch.id, 'input.witnessUserId') : null;
  await db.transaction(async (tx) => {
    await writeOffUnits(tx, actorOf(ctx), { branchId: branch.id, today: branchToday(branch), batchId: batch.id, quantity: data.quantity, reason: data.reason, witnessId });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'WRITE_OFF_QUARANTINE',
      entityType: 'InventoryBatch',
      entityId: batch.id,
      branchId: branch.id,
      newValues: { quantity: data.quantity, reason: data.reason, witnessUserId: witnessId },
    });
  });
  return db.inventoryBatch.findUniqueOrThrow({ where: { id: batch.id } });
}
