import type { MutationResolvers } from '../generated/resolvers';
import type { PosContext } from '../context';
import { createSale } from '../services/checkout';
import { confirmPayment, paySale } from '../services/payments';
import { refundSale } from '../services/refunds';
import { closeTill, createTill, openTill } from '../services/tills';
import { configureFiscalDevice, retryFiscalDocument, setProductFiscalCodes, updateFiscalSettings } from '../services/fiscal';
import { configureMobileMoney } from '../services/mobile-money/settings';
import { requireTenant } from '@umi/subgraph';
import { salesCompleted } from '../metrics';

/** Counts the sale once a payment that committed left it paid in full. */
function countIfPaid<S extends { paymentStatus: string }>(ctx: PosContext, sale: S): S {
  if (sale.paymentStatus === 'PAID') salesCompleted(ctx.deps.metrics).inc();
  return sale;
}

/** Sales are loaded after their transaction commits, through the request's loader. */
async function saleById(ctx: PosContext, id: string) {
  const loader = ctx.loaders.saleById;
  loader.clear(id);
  const sale = await loader.load(id);
  if (!sale) throw new Error(`sale ${id} vanished after its transaction`);
  return sale;
}

export const Mutation: MutationResolvers = {
  /** A fresh sale answers from what was written (no read-back); a replayed one is loaded. */
  createSale: async (_, args, ctx) => {
    // A sale changes its branch's stock (and low-stock state) and pos's own rows, nothing else cached.
    ctx.cache.touches(`branch:${args.input.branchId.toLowerCase()}`);
    const { id, created } = await createSale(ctx, args.input);
    if (!created) return saleById(ctx, id);
    countIfPaid(ctx, created.sale);
    // Committed: the requests to pay go out now (the worker's timer would find them anyway).
    if (created.attempts?.length) ctx.deps.momo.kick(requireTenant(ctx).tenant, created.attempts.map((a) => a.id));
    for (const p of created.payments) ctx.loaders.attemptByPayment.prime(p.id, created.attempts?.find((a) => a.paymentId === p.id) ?? null);
    ctx.loaders.itemsBySale.prime(id, created.items);
    ctx.loaders.paymentsBySale.prime(id, created.payments);
    ctx.loaders.refundsBySale.prime(id, []);
    return created.sale;
  },
  // Both answer a PENDING payment or an unpaid sale (else CONFLICT): PAID now means paid by this call.
  confirmPayment: async (_, args, ctx) => countIfPaid(ctx, await saleById(ctx, await confirmPayment(ctx, args))),
  paySale: async (_, args, ctx) => countIfPaid(ctx, await saleById(ctx, await paySale(ctx, args.input))),
  refundSale: async (_, args, ctx) => saleById(ctx, await refundSale(ctx, args)),
  createTill: (_, args, ctx) => createTill(ctx, args),
  openTill: (_, args, ctx) => openTill(ctx, args.input),
  closeTill: (_, args, ctx) => closeTill(ctx, args.input),
  updateFiscalSettings: (_, args, ctx) => updateFiscalSettings(ctx, args.input),
  configureFiscalDevice: (_, args, ctx) => configureFiscalDevice(ctx, args.input),
  setProductFiscalCodes: (_, args, ctx) => setProductFiscalCodes(ctx, args),
  retryFiscalDocument: (_, args, ctx) => retryFiscalDocument(ctx, args),
  configureMobileMoney: (_, args, ctx) => configureMobileMoney(ctx, args.input),
};
