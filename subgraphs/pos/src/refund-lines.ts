import Decimal from 'decimal.js';

/**
 * The arithmetic of partial refunds (credit notes), apart from the database so it can be tested
 * on its own. Amounts are decimal strings in ngwee.
 */

const Money = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_UP });
const ZERO = new Money(0);
const ngwee = (d: Decimal) => d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);

/** A sale line as refunds see it: what it sold, what the customer paid for it, and what is back. */
export interface RefundableLine {
  quantity: number;
  /** What the customer paid for the whole line (after its discount share; with VAT). */
  paid: string;
  /** The VAT of the whole line. */
  taxAmount: string;
  refundedQuantity: number;
  refundedAmount: string;
  refundedTaxAmount: string;
}

/** What the customer paid for a recorded line: net of its discount share, plus VAT when prices exclude it. */
export function linePaid(line: { lineTotal: string; discountAmount: string; taxAmount: string }, pricesIncludeTax: boolean): string {
  const net = new Money(line.lineTotal).minus(line.discountAmount);
  return (pricesIncludeTax ? net : net.plus(line.taxAmount)).toFixed(2);
}

/**
 * The amount and VAT given back for `quantity` more units of a line. Proportional to the quantity
 * and rounded half-up, computed on the running total (the share of all units refunded so far, less
 * what was already given back): each refund is within a ngwee of its exact share, none is ever
 * negative, and the last one takes the remainder, so a line refunded in any number of parts gives
 * back exactly what it took.
 */
export function refundShare(line: RefundableLine, quantity: number): { amount: string; taxAmount: string } {
  if (!Number.isSafeInteger(quantity) || quantity <= 0) throw new Error(`refund quantity must be a whole number above zero, got ${quantity}`);
  const after = line.refundedQuantity + quantity;
  if (after > line.quantity) throw new Error(`refunding ${quantity} more of a line of ${line.quantity} with ${line.refundedQuantity} back already`);
  const share = (total: string, already: string) => ngwee(new Money(total).times(after).div(line.quantity)).minus(already);
  return { amount: share(line.paid, line.refundedAmount).toFixed(2), taxAmount: share(line.taxAmount, line.refundedTaxAmount).toFixed(2) };
}

/** A payment of the sale as payouts see it. */
export interface PaidIn {
  id: string;
  method: string;
  amount: string;
  /** What has already been handed back of it. */
  paidOut: string;
}

/**
 * Spreads a refund over the payments it gives back: the sale's main method first, then the
 * others in a fixed order (method, id), each up to what it took less what it already gave back.
 * Money goes back the way it came; a split sale refunded in full reverses every payment exactly.
 */
export function planPayouts(amount: string, payments: readonly PaidIn[], mainMethod: string): { paymentId: string; method: string; amount: string }[] {
  let left = new Money(amount);
  const order = [...payments].sort((a, b) => Number(b.method === mainMethod) - Number(a.method === mainMethod) || a.method.localeCompare(b.method) || a.id.localeCompare(b.id));
  const out: { paymentId: string; method: string; amount: string }[] = [];
  for (const p of order) {
    if (left.lte(ZERO)) break;
    const room = new Money(p.amount).minus(p.paidOut);
    if (room.lte(ZERO)) continue;
    const take = Decimal.min(room, left);
    out.push({ paymentId: p.id, method: p.method, amount: take.toFixed(2) });
    left = left.minus(take);
  }
  if (left.gt(ZERO)) throw new Error(`the payments of the sale cannot give back ${amount}: ${left.toFixed(2)} over`);
  return out;
}
