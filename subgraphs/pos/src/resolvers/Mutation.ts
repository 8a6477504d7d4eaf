import { tenantScope, type PosContext } from '../context';
import { createSale } from '../services/checkout';
import { confirmPayment, refundSale } from '../services/refunds';
import { closeTill, createTill, openTill } from '../services/tills';

/** Sales are loaded after their transaction commits, through the request's loader. */
const saleById = async (ctx: PosContext, id: string) => {
  const loader = tenantScope(ctx).loaders.saleById;
  loader.clear(id);
  return loader.load(id);
};

export const Mutation = {
  /** A fresh sale answers from what was written (no read-back); a replayed one is loaded. */
  createSale: async (_: unknown, a: { input: unknown }, ctx: PosContext) => {
    const { id, created } = await createSale(ctx, a.input);
    if (!created) return saleById(ctx, id);
    const { loaders } = tenantScope(ctx);
    loaders.itemsBySale.prime(id, created.items);
    loaders.paymentsBySale.prime(id, created.payments);
    loaders.refundBySale.prime(id, null);
    return created.sale;
  },
  confirmPayment: async (_: unknown, a: Record<string, unknown>, ctx: PosContext) => saleById(ctx, await confirmPayment(ctx, a)),
  refundSale: async (_: unknown, a: Record<string, unknown>, ctx: PosContext) => saleById(ctx, await refundSale(ctx, a)),
  createTill: (_: unknown, a: { branchId: string; name: string }, ctx: PosContext) => createTill(ctx, a),
  openTill: (_: unknown, a: { input: unknown }, ctx: PosContext) => openTill(ctx, a.input),
  closeTill: (_: unknown, a: { input: unknown }, ctx: PosContext) => closeTill(ctx, a.input),
};
