import Decimal from 'decimal.js';
import { canViewBranch } from '@umi/kit';
import type { Sale as SaleRow, SaleItem as SaleItemRow } from '@umi/db/tenant-models';
import { ref, requireTenant } from '@umi/subgraph';
import type { SaleResolvers, SaleStatus } from '../generated/resolvers';
import { taxLinesOf, type PaymentMethod, type TaxCategory, type TaxLine } from '@umi/supply';
import { renderReceipt } from '../receipt';
import type { PosContext } from '../context';
import { saleFiscal } from '../services/fiscal';
import { readFiscalSettings } from '../fiscal/settings';

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

/** The 40-column till receipt of a sale, in its branch's time zone. */
async function receiptText(s: SaleRow, ctx: PosContext): Promise<string> {
  const { tenant, db } = requireTenant(ctx);
  const [items, payments, branch, cashier] = await Promise.all([
    ctx.loaders.itemsBySale.load(s.id),
    ctx.loaders.paymentsBySale.load(s.id),
    ctx.deps.branches.get(tenant.id, s.branchId),
    ctx.loaders.userById.load(s.cashierId),
  ]);
  const [names, fiscal, settings] = await Promise.all([ctx.loaders.productById.loadMany(items.map((i) => i.productId)), saleFiscal(ctx, s.id), readFiscalSettings(db.sql)]);
  return renderReceipt({
    tenantName: tenant.name,
    // The TPIN the invoices are fiscalised under, when configured.
    tpin: settings.tpin ?? tenant.tpin,
    branchName: branch?.name ?? '',
    branchCode: branch?.code ?? '',
    timezone: branch?.timezone ?? 'Africa/Lusaka',
    saleNumber: s.saleNumber,
    createdAt: s.createdAt,
    cashier: cashier ? `${cashier.firstName} ${cashier.lastName}`.trim() : '',
    status: s.status as SaleStatus,
    pricesIncludeTax: s.pricesIncludeTax,
    items: items.map((i, n) => {
      const product = names[n];
      return {
        name: product && !(product instanceof Error) ? product.name : i.productId,
        quantity: i.quantity,
        unitPrice: dec(i.unitPrice).toFixed(2),
        lineTotal: dec(i.lineTotal).toFixed(2),
        taxCategory: i.taxCategory as TaxCategory,
        batchNumber: i.batchNumber,
      };
    }),
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
    fiscal:
      fiscal.status === 'FISCALISED' && fiscal.invoiceNumber && fiscal.receiptNumber
        ? {
            invoiceNumber: fiscal.invoiceNumber,
            receiptNumber: fiscal.receiptNumber,
            sdcId: fiscal.sdcId,
            mrcNumber: fiscal.mrcNumber,
            vsdcTime: fiscal.vsdcTime,
            internalData: fiscal.internalData,
            signature: fiscal.signature,
            qrContent: fiscal.qrContent,
          }
        : null,
  });
}

export const Sale: SaleResolvers = {
  /** A sale of a branch the caller may not see resolves to null. */
  __resolveReference: async (r, ctx) => {
    const sale = await ctx.loaders.saleById.load(r.id);
    return sale && ctx.principal && canViewBranch(ctx.principal, sale.branchId) ? sale : null;
  },
  status: (s) => s.status as SaleStatus,
  paymentStatus: (s) => s.paymentStatus as 'PAID' | 'PENDING' | 'PARTIALLY_PAID' | 'REFUNDED',
  paymentMethod: (s) => s.paymentMethod as PaymentMethod,
  items: (s, _, ctx) => ctx.loaders.itemsBySale.load(s.id),
  payments: (s, _, ctx) => ctx.loaders.paymentsBySale.load(s.id),
  taxLines: async (s, _, ctx) => taxLines(s, await ctx.loaders.itemsBySale.load(s.id)),
  changeGiven: async (s, _, ctx) =>
    (await ctx.loaders.paymentsBySale.load(s.id)).reduce((sum, p) => sum.plus(p.changeGiven ? dec(p.changeGiven) : 0), new Decimal(0)).toFixed(2),
  cashier: (s) => ref('User', s.cashierId),
  branch: (s) => ref('Branch', s.branchId),
  patient: (s) => (s.patientId ? ref('Patient', s.patientId) : null),
  refund: async (s, _, ctx) => (await ctx.loaders.refundsBySale.load(s.id)).at(-1) ?? null,
  refunds: (s, _, ctx) => ctx.loaders.refundsBySale.load(s.id),
  receipt: async (s, _, ctx) => ({ text: await receiptText(s, ctx) }),
  fiscal: (s, _, ctx) => saleFiscal(ctx, s.id),
};
