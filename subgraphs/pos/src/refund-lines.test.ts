import Decimal from 'decimal.js';
import { linePaid, planPayouts, refundShare, type RefundableLine } from './refund-lines';

const fresh = (quantity: number, paid: string, taxAmount: string): RefundableLine => ({
  quantity,
  paid,
  taxAmount,
  refundedQuantity: 0,
  refundedAmount: '0.00',
  refundedTaxAmount: '0.00',
});

/** Refunds the line in the given parts, as the service does, and returns each part's share. */
function refundInParts(line: RefundableLine, parts: number[]): { amount: string; taxAmount: string }[] {
  let current = line;
  return parts.map((q) => {
    const share = refundShare(current, q);
    current = {
      ...current,
      refundedQuantity: current.refundedQuantity + q,
      refundedAmount: new Decimal(current.refundedAmount).plus(share.amount).toFixed(2),
      refundedTaxAmount: new Decimal(current.refundedTaxAmount).plus(share.taxAmount).toFixed(2),
    };
    return share;
  });
}

const sum = (values: string[]) => values.reduce((s, v) => s.plus(v), new Decimal(0)).toFixed(2);

describe('refundShare', () => {
  it('gives back a share proportional to the quantity, rounded half-up', () => {
    // 3 x 20.00 with 16% VAT contained: the line holds 8.28 of VAT; one unit is a third of it.
    expect(refundShare(fresh(3, '60.00', '8.28'), 1)).toEqual({ amount: '20.00', taxAmount: '2.76' });
    // 0.05 over two units: half is 0.025, half-up 0.03.
    expect(refundShare(fresh(2, '0.05', '0.01'), 1)).toEqual({ amount: '0.03', taxAmount: '0.01' });
  });

  it('lets the last refund of a line take the remainder, so the parts add up to the line exactly', () => {
    const parts = refundInParts(fresh(3, '0.10', '0.01'), [1, 1, 1]);
    expect(parts.map((p) => p.amount)).toEqual(['0.03', '0.04', '0.03']);
    expect(sum(parts.map((p) => p.amount))).toBe('0.10');
    expect(sum(parts.map((p) => p.taxAmount))).toBe('0.01');
  });

  it('never overshoots or goes negative when every part rounds up (0.05 over ten units)', () => {
    const parts = refundInParts(fresh(10, '0.05', '0.01'), Array.from({ length: 10 }, () => 1));
    for (const p of parts) {
      expect(new Decimal(p.amount).gte(0)).toBe(true);
      expect(new Decimal(p.taxAmount).gte(0)).toBe(true);
    }
    expect(sum(parts.map((p) => p.amount))).toBe('0.05');
    expect(sum(parts.map((p) => p.taxAmount))).toBe('0.01');
  });

  it('adds up exactly for any split of any line (exhaustive over small lines)', () => {
    for (let quantity = 1; quantity <= 7; quantity++) {
      for (const paid of ['0.01', '0.07', '1.00', '13.33', '99.99']) {
        const tax = new Decimal(paid).times(16).div(116).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
        const parts: number[] = [];
        for (let left = quantity, step = 1; left > 0; step = (step % 3) + 1) {
          const q = Math.min(step, left);
          parts.push(q);
          left -= q;
        }
        const shares = refundInParts(fresh(quantity, paid, tax), parts);
        expect(sum(shares.map((s) => s.amount))).toBe(paid);
        expect(sum(shares.map((s) => s.taxAmount))).toBe(tax);
        // Each part is within a ngwee of its exact proportional share.
        shares.forEach((s, i) => {
          const exact = new Decimal(paid).times(parts[i]!).div(quantity);
          expect(exact.minus(s.amount).abs().lte('0.01')).toBe(true);
        });
      }
    }
  });

  it('refuses more than remains on the line', () => {
    expect(() => refundShare({ ...fresh(2, '10.00', '1.38'), refundedQuantity: 2, refundedAmount: '10.00', refundedTaxAmount: '1.38' }, 1)).toThrow();
    expect(() => refundShare(fresh(2, '10.00', '1.38'), 0)).toThrow();
  });
});

describe('linePaid', () => {
  it('is net of the discount share, with VAT added when prices exclude it', () => {
    expect(linePaid({ lineTotal: '100.00', discountAmount: '10.00', taxAmount: '12.41' }, true)).toBe('90.00');
    expect(linePaid({ lineTotal: '100.00', discountAmount: '10.00', taxAmount: '14.40' }, false)).toBe('104.40');
  });
});

describe('planPayouts', () => {
  const payments = [
    { id: 'b', method: 'CASH', amount: '40.00', paidOut: '0.00' },
    { id: 'a', method: 'CARD', amount: '50.00', paidOut: '0.00' },
  ];

  it('gives back through the main method first, then the others', () => {
    expect(planPayouts('30.00', payments, 'CARD')).toEqual([{ paymentId: 'a', method: 'CARD', amount: '30.00' }]);
    expect(planPayouts('70.00', payments, 'CARD')).toEqual([
      { paymentId: 'a', method: 'CARD', amount: '50.00' },
      { paymentId: 'b', method: 'CASH', amount: '20.00' },
    ]);
  });

  it('skips what was already given back, and reverses every payment exactly on a full refund', () => {
    const after = [
      { ...payments[0]!, paidOut: '0.00' },
      { ...payments[1]!, paidOut: '30.00' },
    ];
    expect(planPayouts('60.00', after, 'CARD')).toEqual([
      { paymentId: 'a', method: 'CARD', amount: '20.00' },
      { paymentId: 'b', method: 'CASH', amount: '40.00' },
    ]);
    expect(planPayouts('0.00', payments, 'CASH')).toEqual([]);
    expect(() => planPayouts('90.01', payments, 'CASH')).toThrow();
  });
});
