import Decimal from 'decimal.js';
import type { Refund, Sale as SaleRow, SaleItem as SaleItemRow, Till as TillRow, TillSession as TillSessionRow } from '@umi/db/src/generated/tenant/client';
import { canViewBranch } from '@umi/kit';
import { tenantScope, type PosContext } from '../context';
import { taxLinesOf, type PaymentMethod, type TaxCategory, type TaxLine } from '../pricing';
import { renderReceipt } from '../receipt';
import { purchasesOf } from '../services/sales';
import { zReport } from '../services/tills';

const ref = (__typename: string, id: string) => ({ __typename, id });
const dec = (v: { toString(): string }) => new Decimal(v.toString());
/** VAT by (category, rate), from the sale's lines as recorded. */
const taxLines = (sale: SaleRow, items: SaleItemRow[]): TaxLine[] =>
  taxLinesOf(
    items.map((i) => ({
      taxCategory: i.taxCategory as TaxCategory,
      taxRate: i.taxRate.toString(),
      lineTotal: i.lineTotal.toString(),
      discountAmount: i.discountAmount.toString(),
      taxAmount: i.taxAmount.toString(),
    })),
    sale.pricesIncludeTax,
  );

export const Sale = {
  /** A sale of a branch the caller may not see resolves to null. */
  __resolveReference: async (r: { id: string }, ctx: PosContext) => {
    const sale = await tenantScope(ctx).loaders.saleById.load(r.id);
    return sale && ctx.principal && canViewBranch(ctx.principal, sale.branchId) ? sale : null;
  },
  items: (s: SaleRow, _: unknown, ctx: PosContext) => tenantScope(ctx).loaders.itemsBySale.load(s.id),
  payments: (s: SaleRow, _: unknown, ctx: PosContext) => tenantScope(ctx).loaders.paymentsBySale.load(s.id),
  taxLines: async (s: SaleRow, _: unknown, ctx: PosContext) => taxLines(s, await tenantScope(ctx).loaders.itemsBySale.load(s.id)),
  changeGiven: async (s: SaleRow, _: unknown, ctx: PosContext) =>
    (await tenantScope(ctx).loaders.paymentsBySale.load(s.id)).reduce((sum, p) => sum.plus(p.changeGiven ? dec(p.changeGiven) : 0), new Decimal(0)).toFixed(2),
  cashier: (s: SaleRow) => ref('User', s.cashierId),
  branch: (s: SaleRow) => ref('Branch', s.branchId),
  patient: (s: SaleRow) => (s.patientId ? ref('Patient', s.patientId) : null),
  refund: (s: SaleRow, _: unknown, ctx: PosContext) => tenantScope(ctx).loaders.refundBySale.load(s.id),
  receipt: async (s: SaleRow, _: unknown, ctx: PosContext) => {
    const { tenant, loaders } = tenantScope(ctx);
    const [items, payments, branch, cashier] = await Promise.all([
      loaders.itemsBySale.load(s.id),
      loaders.paymentsBySale.load(s.id),
      ctx.deps.branches.get(tenant.id, s.branchId),
      loaders.userById.load(s.cashierId),
    ]);
    const names = await loaders.productById.loadMany(items.map((i) => i.productId));
    const text = renderReceipt({
      tenantName: tenant.name,
      tpin: tenant.tpin,
      branchName: branch?.name ?? '',
      branchCode: branch?.code ?? '',
      timezone: branch?.timezone ?? 'Africa/Lusaka',
      saleNumber: s.saleNumber,
      createdAt: s.createdAt,
      cashier: cashier ? `${cashier.firstName} ${cashier.lastName}`.trim() : '',
      status: s.status as 'COMPLETED' | 'REFUNDED' | 'VOIDED',
      pricesIncludeTax: s.pricesIncludeTax,
      items: items.map((i, n) => ({
        name: (names[n] as { name?: string } | null)?.name ?? i.productId,
        quantity: i.quantity,
        unitPrice: dec(i.unitPrice).toFixed(2),
        lineTotal: dec(i.lineTotal).toFixed(2),
        taxCategory: i.taxCategory as TaxCategory,
        batchNumber: i.batchNumber,
      })),
      subtotal: dec(s.subtotal).toFixed(2),
      discountAmount: dec(s.discountAmount).toFixed(2),
      taxAmount: dec(s.taxAmount).toFixed(2),
      totalAmount: dec(s.totalAmount).toFixed(2),
      taxLines: taxLines(s, items),
      payments: payments.map((p) => ({
        method: p.method as PaymentMethod,
        amount: dec(p.amount).toFixed(2),
        tendered: p.tendered ? dec(p.tendered).toFixed(2) : null,
        changeGiven: p.changeGiven ? dec(p.changeGiven).toFixed(2) : null,
        status: p.status,
      })),
      zraReceiptNumber: s.zraReceiptNumber,
    });
    return { text };
  },
};

export const SaleItem = {
  product: (i: SaleItemRow) => ref('Product', i.productId),
};

export const RefundType = {
  refundedBy: (r: Refund) => ref('User', r.refundedBy),
};

export const Patient = {
  __resolveReference: (r: { id: string }) => r,
  purchases: (p: { id: string }, a: { first?: number | null }, ctx: PosContext) => purchasesOf(ctx, [p.id], Math.min(Math.max(a.first ?? 50, 1), 100)).then((r) => r[0]),
};

export const Till = {
  branch: (t: TillRow) => ref('Branch', t.branchId),
  currentSession: (t: TillRow, _: unknown, ctx: PosContext) => tenantScope(ctx).loaders.openSessionByTill.load(t.id),
};

export const TillSession = {
  till: (s: TillSessionRow, _: unknown, ctx: PosContext) => tenantScope(ctx).loaders.tillById.load(s.tillId),
  openedBy: (s: TillSessionRow) => ref('User', s.openedBy),
  closedBy: (s: TillSessionRow) => (s.closedBy ? ref('User', s.closedBy) : null),
  zReport: (s: TillSessionRow, _: unknown, ctx: PosContext) => zReport(ctx, s),
};
