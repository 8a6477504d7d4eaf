import Decimal from 'decimal.js';
import type { PaymentMethod, TaxCategory, TaxLine } from '@umi/supply';

export interface ReceiptData {
  tenantName: string;
  tpin: string | null;
  branchName: string;
  branchCode: string;
  /** IANA zone of the branch. */
  timezone: string;
  saleNumber: string;
  createdAt: Date;
  cashier: string;
  status: 'COMPLETED' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'VOIDED' | 'PENDING_PAYMENT';
  pricesIncludeTax: boolean;
  items: { name: string; quantity: number; unitPrice: string; lineTotal: string; taxCategory: TaxCategory; batchNumber: string }[];
  subtotal: string;
  discountAmount: string;
  taxAmount: string;
  totalAmount: string;
  taxLines: TaxLine[];
  payments: { method: PaymentMethod; amount: string; tendered: string | null; changeGiven: string | null; status: string }[];
  zraReceiptNumber: string | null;
  /** The VSDC's answer, once the sale is fiscalised: printed as the receipt's fiscal block. */
  fiscal?: FiscalBlock | null;
}

/** What ZRA Smart Invoice asks a receipt to print of the VSDC's answer. */
export interface FiscalBlock {
  invoiceNumber: string;
  receiptNumber: string;
  sdcId: string | null;
  mrcNumber: string | null;
  /** yyyyMMddHHmmss, the VSDC's (Zambian) time. */
  vsdcTime: string | null;
  internalData: string | null;
  signature: string | null;
  /** The QR code's content: the VSDC's receipt verification link. */
  qrContent: string | null;
}

/** 20261130081512 -> 2026-11-30 08:15:12 */
function vsdcTime(t: string): string {
  return /^\d{14}$/.test(t) ? `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)} ${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}` : t;
}

/** Splits `text` into lines of `width` (links and signatures have no spaces to wrap at). */
function chunks(text: string, width: number, indent = '  '): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += width - indent.length) out.push(indent + text.slice(i, i + width - indent.length));
  return out;
}

function fiscalLines(f: FiscalBlock, width: number): string[] {
  const out = [...center('ZRA SMART INVOICE', width)];
  out.push(...row('Invoice no.', f.invoiceNumber, width));
  out.push(...row('Receipt no.', f.receiptNumber, width));
  if (f.vsdcTime) out.push(...row('VSDC time', vsdcTime(f.vsdcTime), width));
  if (f.sdcId) out.push(...row('SDC ID', f.sdcId, width));
  if (f.mrcNumber) out.push(...row('MRC', f.mrcNumber, width));
  if (f.internalData) out.push('Internal data:', ...chunks(f.internalData, width));
  if (f.signature) out.push('Receipt signature:', ...chunks(f.signature, width));
  if (f.qrContent) out.push('QR:', ...chunks(f.qrContent, width));
  return out;
}

// ZRA Smart Invoice tax type codes, which the VSDC expects to see printed against each line.
const TAX_CODE: Record<TaxCategory, string> = { STANDARD: 'A', ZERO_RATED: 'C3', EXEMPT: 'D' };
const METHOD_LABEL: Record<PaymentMethod, string> = { CASH: 'CASH', CARD: 'CARD', MOBILE_MONEY: 'MOBILE MONEY', INSURANCE: 'INSURANCE' };
// Every amount ends in the same column; the tax code ("A", "C3", "D") sits after it.
const CODE_COLUMN = 3;
// Below this an amount and its label no longer fit side by side.
const MIN_WIDTH = 24;

// Building an Intl.DateTimeFormat costs far more than formatting with one, and a branch's
// receipts all use the same zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function localDateTime(at: Date, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    // h23: some engines print midnight as "24:00" with hour12: false.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const part = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}`;
}

// Amounts arrive from the database in whatever scale it returns ("25.5"); a receipt shows ngwee.
function amount(value: string): string {
  return new Decimal(value).toFixed(2);
}

/** Word-wraps `text` to `width`, cutting words that are longer than a whole line. */
function wrap(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let current = '';
  const room = () => width - (lines.length === 0 ? 0 : indent.length);
  for (const word of text.trim().split(/\s+/)) {
    let rest = word;
    while (rest) {
      const candidate = current ? `${current} ${rest}` : rest;
      if (candidate.length <= room()) {
        current = candidate;
        rest = '';
      } else if (current) {
        lines.push(current);
        current = '';
      } else {
        const n = room();
        lines.push(rest.slice(0, n));
        rest = rest.slice(n);
      }
    }
  }
  if (current || lines.length === 0) lines.push(current);
  return lines.map((l, i) => (i === 0 ? l : indent + l));
}

function center(text: string, width: number): string[] {
  return wrap(text, width).map((l) => ' '.repeat(Math.floor((width - l.length) / 2)) + l);
}

/**
 * `label` on the left, `value` right-aligned in the amount column, then the tax code if any. A
 * label too long to share the line goes on lines of its own above the amount: cutting it could
 * turn "120 x 999.99" into a different, wrong price.
 */
function row(label: string, value: string, width: number, code = ''): string[] {
  const right = value + (code ? ` ${code}`.padEnd(CODE_COLUMN) : ' '.repeat(CODE_COLUMN));
  if (label.length + 1 + right.length <= width) return [(label.padEnd(width - right.length) + right).trimEnd()];
  const indent = label.length - label.trimStart().length;
  const above = wrap(label.trim(), width - indent).map((l) => ' '.repeat(indent) + l);
  return [...above, right.padStart(width).trimEnd()];
}

function percent(rate: string): string {
  return new Decimal(rate).times(100).toFixed(2);
}

/** The sale as fixed-width text for a till printer, no line longer than `width`. */
export function renderReceipt(d: ReceiptData, width = 40): string {
  if (width < MIN_WIDTH) throw new RangeError(`receipt width must be at least ${MIN_WIDTH}, got ${width}`);
  const rule = '-'.repeat(width);
  const out: string[] = [];

  out.push(...center(d.tenantName, width));
  if (d.tpin) out.push(...center(`TPIN: ${d.tpin}`, width));
  out.push(...center(`${d.branchName} (${d.branchCode})`, width));
  if (d.status !== 'COMPLETED') out.push('', ...center(`*** ${d.status.replace('_', ' ')} ***`, width));
  out.push(rule);
  out.push(...wrap(`Sale: ${d.saleNumber}`, width, '  '));
  out.push(`Date: ${localDateTime(d.createdAt, d.timezone)}`);
  out.push(...wrap(`Cashier: ${d.cashier}`, width, '  '));
  out.push(rule);

  for (const item of d.items) {
    out.push(...wrap(item.name, width, '  '));
    out.push(...row(`  ${item.quantity} x ${amount(item.unitPrice)}`, amount(item.lineTotal), width, TAX_CODE[item.taxCategory]));
    out.push(...wrap(`Batch ${item.batchNumber}`, width - 2).map((l) => `  ${l}`));
  }
  out.push(rule);

  out.push(...row('SUBTOTAL', amount(d.subtotal), width));
  if (!new Decimal(d.discountAmount).isZero()) out.push(...row('DISCOUNT', `-${amount(d.discountAmount)}`, width));
  for (const t of d.taxLines) {
    const label = `${TAX_CODE[t.category]} ${percent(t.rate)}%`;
    out.push(...row(`TAXABLE ${label}`, amount(t.taxableAmount), width));
    out.push(...row(`VAT ${label}${d.pricesIncludeTax ? ' incl.' : ''}`, amount(t.taxAmount), width));
  }
  if (d.taxLines.length > 1) out.push(...row(`TOTAL VAT${d.pricesIncludeTax ? ' incl.' : ''}`, amount(d.taxAmount), width));
  out.push(...row('TOTAL ZMW', amount(d.totalAmount), width));
  out.push(rule);

  for (const p of d.payments) {
    const label = METHOD_LABEL[p.method] + (p.status === 'COMPLETED' ? '' : ` ${p.status}`);
    out.push(...row(label, amount(p.amount), width));
    if (p.method === 'CASH' && p.tendered != null) {
      out.push(...row('  TENDERED', amount(p.tendered), width));
      out.push(...row('  CHANGE', amount(p.changeGiven ?? '0'), width));
    }
  }
  if (d.payments.length > 0) out.push(rule);

  out.push(...wrap(`ZRA receipt: ${d.fiscal?.receiptNumber ?? d.zraReceiptNumber ?? 'pending'}`, width, '  '));
  if (d.fiscal) out.push(rule, ...fiscalLines(d.fiscal, width));
  out.push('', ...center('Thank you for your purchase', width));
  return out.join('\n') + '\n';
}
