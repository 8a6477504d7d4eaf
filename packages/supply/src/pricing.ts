import Decimal from 'decimal.js';
import { BadUserInputError } from '@umi/kit';

export type TaxCategory = 'STANDARD' | 'ZERO_RATED' | 'EXEMPT';
export type PaymentMethod = 'CASH' | 'CARD' | 'MOBILE_MONEY' | 'INSURANCE';

export interface SaleLineInput {
  productId: string;
  batchId: string;
  batchNumber: string;
  quantity: number;
  /** e.g. "25.50" */
  unitPrice: string;
  taxCategory: TaxCategory;
  /** A fraction, e.g. "0.1600". */
  taxRate: string;
  /**
   * Rows with the same key are the batches of ONE line the customer bought (a product and its
   * quantity): VAT is computed on that line and shared out over its batches, so where FEFO took
   * the units from never changes the VAT. A row without a key is a line of its own.
   */
  lineKey?: string;
}
export interface PricedLine extends SaleLineInput {
  lineTotal: string;
  discountAmount: string;
  taxAmount: string;
}
export interface TaxLine {
  category: TaxCategory;
  /** e.g. "0.1600" */
  rate: string;
  taxableAmount: string;
  taxAmount: string;
}
export interface PricedSale {
  lines: PricedLine[];
  subtotal: string;
  discountAmount: string;
  taxAmount: string;
  totalAmount: string;
  taxLines: TaxLine[];
}

export interface PaymentInput {
  method: PaymentMethod;
  amount: string;
  tendered?: string | null;
  reference?: string | null;
}
export interface PlannedPayment {
  method: PaymentMethod;
  amount: string;
  tendered: string | null;
  changeGiven: string | null;
  status: 'COMPLETED' | 'PENDING';
  providerReference: string | null;
}
export interface PaymentPlan {
  payments: PlannedPayment[];
  paymentStatus: 'PAID' | 'PENDING' | 'PARTIALLY_PAID';
  changeGiven: string;
}

// The default 20 significant digits would round products such as quantity x a 12-digit price, or
// discount x line total in the pro-rata spread, before we round to ngwee ourselves; 64 keeps every
// intermediate exact for any amount the money pattern admits.
const Money = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_UP });

const MONEY = /^\d{1,12}(\.\d{1,2})?$/;
// Rates come from effective-dated tenant settings as fractions with four decimals; a rate of 1 or
// more is a percentage typed where a fraction belongs.
const RATE = /^0(\.\d{1,4})?$/;
const CATEGORY_ORDER: readonly TaxCategory[] = ['STANDARD', 'ZERO_RATED', 'EXEMPT'];
const ZERO = new Money(0);

function bad(field: string, problem: string): BadUserInputError {
  return new BadUserInputError(`${field}: ${problem}`, { field });
}

/** A money string such as "25.50" (at most two decimals, never negative) as a Decimal. */
export function decimalString(value: string, field: string): Decimal {
  if (typeof value !== 'string' || !MONEY.test(value)) {
    throw bad(field, `must be an amount such as "12.50" with at most two decimals, got ${JSON.stringify(value)}`);
  }
  return new Money(value);
}

function ngwee(d: Decimal): Decimal {
  return d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
}

function money(d: Decimal): string {
  return d.toFixed(2, Decimal.ROUND_HALF_UP);
}

/**
 * Splits `discount` over `totals` pro rata in whole ngwee. Flooring each share leaves a few ngwee
 * over; they go to the largest remainders (ties to the earlier line), so the shares add up to the
 * discount exactly and a line is never off by more than one ngwee from its exact share.
 */
function spread(discount: Decimal, totals: Decimal[]): Decimal[] {
  const subtotal = totals.reduce((s, t) => s.plus(t), ZERO).times(100);
  const cents = discount.times(100);
  if (cents.isZero() || subtotal.isZero()) return totals.map(() => ZERO);
  const parts = totals.map((t, index) => {
    const weighted = cents.times(t.times(100));
    return { index, floor: weighted.divToInt(subtotal), remainder: weighted.mod(subtotal) };
  });
  let left = cents.minus(parts.reduce((s, p) => s.plus(p.floor), ZERO)).toNumber();
  const order = [...parts].sort((a, b) => b.remainder.comparedTo(a.remainder) || a.index - b.index);
  const bonus = new Set<number>();
  for (const p of order) {
    if (left === 0) break;
    bonus.add(p.index);
    left -= 1;
  }
  return parts.map((p) => (bonus.has(p.index) ? p.floor.plus(1) : p.floor).div(100));
}

/**
 * Prices a sale: line totals, the sale discount spread over the lines, VAT per line (rounded
 * half-up per line, as ZRA does) and the VAT summary by category and rate.
 */
export function priceSale(lines: SaleLineInput[], opts: { pricesIncludeTax: boolean; discountAmount: string }): PricedSale {
  const rates = lines.map((line, i) => {
    if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0) {
      throw bad(`lines[${i}].quantity`, `must be a whole number above zero, got ${line.quantity}`);
    }
    if (typeof line.taxRate !== 'string' || !RATE.test(line.taxRate)) {
      throw bad(`lines[${i}].taxRate`, `must be a fraction below 1 such as "0.1600", got ${JSON.stringify(line.taxRate)}`);
    }
    return new Money(line.taxRate);
  });
  const totals = lines.map((line, i) => ngwee(decimalString(line.unitPrice, `lines[${i}].unitPrice`).times(line.quantity)));
  const subtotal = totals.reduce((s, t) => s.plus(t), ZERO);

  const discount = decimalString(opts.discountAmount, 'input.discountAmount');
  if (discount.gt(subtotal)) {
    throw bad('input.discountAmount', `${money(discount)} is more than the subtotal of ${money(subtotal)}`);
  }
  const discounts = spread(discount, totals);

  // VAT per customer line (rounded half-up once per line), then shared out over the line's batch
  // rows pro rata in whole ngwee, so the rows add up to the line's VAT exactly.
  const groups = new Map<string, number[]>();
  lines.forEach((line, i) => {
    const key = line.lineKey === undefined ? `#${i}` : `k:${line.lineKey}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const taxes: Decimal[] = lines.map(() => ZERO);
  let taxTotal = ZERO;
  for (const rows of groups.values()) {
    const rate = rates[rows[0]!]!;
    if (rows.some((i) => !rates[i]!.eq(rate))) throw bad(`lines[${rows[0]!}].taxRate`, 'the batches of one line must share its VAT rate');
    const nets = rows.map((i) => totals[i]!.minus(discounts[i]!));
    const net = nets.reduce((s, n) => s.plus(n), ZERO);
    const tax = opts.pricesIncludeTax ? ngwee(net.times(rate).div(rate.plus(1))) : ngwee(net.times(rate));
    taxTotal = taxTotal.plus(tax);
    const shares = rows.length === 1 ? [tax] : spread(tax, nets);
    rows.forEach((i, n) => (taxes[i] = shares[n]!));
  }
  const priced = lines.map(
    (line, i): PricedLine => ({ ...line, lineTotal: money(totals[i]!), discountAmount: money(discounts[i]!), taxAmount: money(taxes[i]!) }),
  );

  const discountTotal = discounts.reduce((s, d) => s.plus(d), ZERO);
  const total = opts.pricesIncludeTax ? subtotal.minus(discountTotal) : subtotal.plus(taxTotal).minus(discountTotal);
  const taxLines = taxLinesOf(priced, opts.pricesIncludeTax);

  return {
    lines: priced,
    subtotal: money(subtotal),
    discountAmount: money(discountTotal),
    taxAmount: money(taxTotal),
    totalAmount: money(total),
    taxLines,
  };
}

/** The lines of a priced or recorded sale that VAT depends on (amounts as decimal strings). */
export interface TaxedLine {
  taxCategory: TaxCategory;
  taxRate: string;
  lineTotal: string;
  discountAmount: string;
  taxAmount: string;
}

/**
 * VAT by (category, rate): for the sale being priced and for the receipt of one recorded, so both
 * always agree. Taxable is the value without VAT: net less the VAT it contains, or net.
 */
export function taxLinesOf(lines: readonly TaxedLine[], pricesIncludeTax: boolean): TaxLine[] {
  const groups = new Map<string, { category: TaxCategory; rate: Decimal; taxable: Decimal; tax: Decimal }>();
  for (const line of lines) {
    const rate = new Money(line.taxRate);
    // "0.16" and "0.1600" are the same rate and belong on one tax line.
    const key = `${line.taxCategory}:${rate.toFixed(4)}`;
    const g = groups.get(key) ?? { category: line.taxCategory, rate, taxable: ZERO, tax: ZERO };
    const net = new Money(line.lineTotal).minus(line.discountAmount);
    g.taxable = g.taxable.plus(pricesIncludeTax ? net.minus(line.taxAmount) : net);
    g.tax = g.tax.plus(line.taxAmount);
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => CATEGORY_ORDER.indexOf(a.category) - CATEGORY_ORDER.indexOf(b.category) || a.rate.comparedTo(b.rate))
    .map((t) => ({ category: t.category, rate: t.rate.toFixed(4), taxableAmount: money(t.taxable), taxAmount: money(t.tax) }));
}

function plannedPayment(method: PaymentMethod, amount: Decimal, tendered: Decimal | null, reference: string | null | undefined): PlannedPayment {
  const cash = method === 'CASH';
  // Cash without a tendered amount was handed over exactly.
  const handed = cash ? (tendered ?? amount) : null;
  return {
    method,
    amount: money(amount),
    tendered: handed ? money(handed) : null,
    changeGiven: handed ? money(handed.minus(amount)) : null,
    // Request-to-pay: the money moves only once the payer approves on their phone.
    status: method === 'MOBILE_MONEY' ? 'PENDING' : 'COMPLETED',
    providerReference: reference?.trim() || null,
  };
}

function splitPayments(total: Decimal, method: PaymentMethod, payments: PaymentInput[]): PlannedPayment[] {
  if (payments.length === 0) throw bad('input.payments', 'give at least one payment, or leave payments out');
  const planned = payments.map((p, i) => {
    const amount = decimalString(p.amount, `input.payments[${i}].amount`);
    if (amount.isZero()) throw bad(`input.payments[${i}].amount`, 'must be above zero');
    let tendered: Decimal | null = null;
    if (p.tendered != null) {
      if (p.method !== 'CASH') throw bad(`input.payments[${i}].tendered`, `only a cash payment takes a tendered amount, not ${p.method}`);
      tendered = decimalString(p.tendered, `input.payments[${i}].tendered`);
      if (tendered.lt(amount)) throw bad(`input.payments[${i}].tendered`, `${money(tendered)} is less than the payment of ${money(amount)}`);
    }
    return plannedPayment(p.method, amount, tendered, p.reference);
  });
  const paid = planned.reduce((s, p) => s.plus(p.amount), ZERO);
  if (!paid.eq(total)) {
    throw bad('input.payments', `the payments add up to ${money(paid)} but the sale total is ${money(total)}`);
  }
  if (!payments.some((p) => p.method === method)) {
    throw bad('input.paymentMethod', `${method} must be the method of one of the payments`);
  }
  return planned;
}

/**
 * Turns the cashier's tender into payment records: one payment of `method` for the whole total,
 * or the split given in `payments`, with change for cash and mobile money left PENDING.
 */
export function planPayments(
  totalAmount: string,
  method: PaymentMethod,
  payments: PaymentInput[] | null | undefined,
  tendered?: string | null,
): PaymentPlan {
  const total = decimalString(totalAmount, 'totalAmount');
  const given = tendered == null ? null : decimalString(tendered, 'input.tendered');
  let planned: PlannedPayment[];

  if (total.isZero()) {
    // A fully discounted sale takes no money: a payment record of 0.00 would be a phantom tender.
    if (payments?.length) throw bad('input.payments', 'the sale total is 0.00, so there is nothing to pay');
    if (given && !given.isZero()) throw bad('input.tendered', 'the sale total is 0.00, so no cash is due');
    planned = [];
  } else if (payments != null) {
    if (given) throw bad('input.tendered', 'with split payments, give the cash handed over on the cash payment');
    planned = splitPayments(total, method, payments);
  } else {
    if (given && method !== 'CASH') throw bad('input.tendered', `only a cash payment takes a tendered amount, not ${method}`);
    if (given && given.lt(total)) throw bad('input.tendered', `${money(given)} is less than the total of ${money(total)}`);
    planned = [plannedPayment(method, total, given, null)];
  }

  const completed = planned.filter((p) => p.status === 'COMPLETED').length;
  const paymentStatus = completed === planned.length ? 'PAID' : completed === 0 ? 'PENDING' : 'PARTIALLY_PAID';
  const change = planned.reduce((s, p) => (p.changeGiven ? s.plus(p.changeGiven) : s), ZERO);
  return { payments: planned, paymentStatus, changeGiven: money(change) };
}
