import Decimal from 'decimal.js';
import { BadUserInputError } from '@umi/kit';
import { decimalString, planPayments, priceSale, type SaleLineInput, type TaxCategory } from './pricing';

function line(unitPrice: string, quantity = 1, taxCategory: TaxCategory = 'STANDARD', taxRate = '0.1600'): SaleLineInput {
  return { productId: 'prod-1', batchId: 'batch-1', batchNumber: 'B-001', quantity, unitPrice, taxCategory, taxRate };
}

const inclusive = { pricesIncludeTax: true, discountAmount: '0.00' };
const exclusive = { pricesIncludeTax: false, discountAmount: '0.00' };

function refusal(fn: () => unknown): BadUserInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BadUserInputError) return err;
    throw err;
  }
  throw new Error('expected a BadUserInputError');
}

function expectRefused(fn: () => unknown, field: string): BadUserInputError {
  const err = refusal(fn);
  expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect(err.message.startsWith(`${field}: `)).toBe(true);
  return err;
}

describe('priceSale: VAT', () => {
  it('finds the VAT contained in an inclusive price (DOMAIN.md: 100.00 at 16% holds 13.79)', () => {
    const sale = priceSale([line('100.00')], inclusive);
    expect(sale.lines[0]).toMatchObject({ lineTotal: '100.00', discountAmount: '0.00', taxAmount: '13.79' });
    expect(sale).toMatchObject({ subtotal: '100.00', discountAmount: '0.00', taxAmount: '13.79', totalAmount: '100.00' });
    expect(sale.taxLines).toEqual([{ category: 'STANDARD', rate: '0.1600', taxableAmount: '86.21', taxAmount: '13.79' }]);
  });

  it('adds VAT on top when prices exclude tax', () => {
    const sale = priceSale([line('25.50', 4)], exclusive);
    expect(sale.lines[0]).toMatchObject({ lineTotal: '102.00', taxAmount: '16.32' });
    expect(sale).toMatchObject({ subtotal: '102.00', taxAmount: '16.32', totalAmount: '118.32' });
    expect(sale.taxLines).toEqual([{ category: 'STANDARD', rate: '0.1600', taxableAmount: '102.00', taxAmount: '16.32' }]);
  });

  it('taxes the discounted value when prices exclude tax, and subtracts the discount from the total', () => {
    const sale = priceSale([line('100.00')], { pricesIncludeTax: false, discountAmount: '10.00' });
    expect(sale).toMatchObject({ subtotal: '100.00', discountAmount: '10.00', taxAmount: '14.40', totalAmount: '104.40' });
    expect(sale.taxLines[0]).toMatchObject({ taxableAmount: '90.00', taxAmount: '14.40' });
  });

  it('groups mixed categories into tax lines ordered STANDARD, ZERO_RATED, EXEMPT', () => {
    const sale = priceSale(
      [line('40.00', 1, 'EXEMPT', '0.0000'), line('58.00', 1), line('30.00', 2, 'ZERO_RATED', '0.0000'), line('11.60', 5, 'STANDARD', '0.16')],
      inclusive,
    );
    expect(sale.lines.map((l) => l.taxAmount)).toEqual(['0.00', '8.00', '0.00', '8.00']);
    expect(sale.taxLines).toEqual([
      // "0.16" and "0.1600" are one rate, so one line.
      { category: 'STANDARD', rate: '0.1600', taxableAmount: '100.00', taxAmount: '16.00' },
      { category: 'ZERO_RATED', rate: '0.0000', taxableAmount: '60.00', taxAmount: '0.00' },
      { category: 'EXEMPT', rate: '0.0000', taxableAmount: '40.00', taxAmount: '0.00' },
    ]);
    expect(sale).toMatchObject({ subtotal: '216.00', taxAmount: '16.00', totalAmount: '216.00' });
  });

  it('keeps the rate as given on each priced line', () => {
    const sale = priceSale([line('10.00', 1, 'STANDARD', '0.16')], inclusive);
    expect(sale.lines[0]!.taxRate).toBe('0.16');
    expect(sale.lines[0]!.productId).toBe('prod-1');
  });

  it('rounds half-up at exactly half a ngwee, where floats and banker\'s rounding go down', () => {
    // 10.05 x 0.1 = 1.005: a float holds 1.00499..., half-even gives 1.00.
    expect(priceSale([line('10.05', 1, 'STANDARD', '0.1000')], exclusive).taxAmount).toBe('1.01');
    // 1.25 x 0.1 = 0.125: half-even gives 0.12.
    expect(priceSale([line('1.25', 1, 'STANDARD', '0.1000')], exclusive).taxAmount).toBe('0.13');
    // Inclusive: 0.04 x 0.6 / 1.6 = 0.015.
    expect(priceSale([line('0.04', 1, 'STANDARD', '0.6000')], inclusive).taxAmount).toBe('0.02');
  });

  it('rounds per line, not on the sum', () => {
    // Each line: 0.50 x 1% = 0.005 -> 0.01; on the sum 1.00 x 1% would be 0.01.
    const sale = priceSale([line('0.50', 1, 'STANDARD', '0.0100'), line('0.50', 1, 'STANDARD', '0.0100')], exclusive);
    expect(sale.taxAmount).toBe('0.02');
    expect(sale.taxLines[0]!.taxAmount).toBe('0.02');
  });

  it('computes VAT per line the customer bought, never per FEFO batch (issue 11: 3 x 0.10 holds 0.04)', () => {
    const batch = (batchId: string, quantity: number): SaleLineInput => ({ ...line('0.10', quantity), batchId, batchNumber: batchId, lineKey: 'prod-1' });
    const oneBatch = priceSale([batch('b1', 3)], inclusive);
    const threeBatches = priceSale([batch('b1', 1), batch('b2', 1), batch('b3', 1)], inclusive);
    expect(oneBatch.taxAmount).toBe('0.04');
    expect(threeBatches.taxAmount).toBe('0.04');
    // The rows still record their batches and their VAT adds up to the line's.
    expect(threeBatches.lines.map((l) => l.batchId)).toEqual(['b1', 'b2', 'b3']);
    expect(threeBatches.lines.reduce((s, l) => s.plus(l.taxAmount), new Decimal(0)).toFixed(2)).toBe('0.04');
    expect(threeBatches.taxLines).toEqual([{ category: 'STANDARD', rate: '0.1600', taxableAmount: '0.26', taxAmount: '0.04' }]);
  });

  it('multiplies large amounts exactly', () => {
    const sale = priceSale([line('999999999999.99', 1000, 'EXEMPT', '0.0000')], inclusive);
    expect(sale.lines[0]!.lineTotal).toBe('999999999999990.00');
  });
});

describe('priceSale: discount', () => {
  it('spreads 10.00 over 33.33/33.33/33.34 so the shares add up exactly', () => {
    const sale = priceSale([line('33.33'), line('33.33'), line('33.34')], { pricesIncludeTax: true, discountAmount: '10.00' });
    expect(sale.lines.map((l) => l.discountAmount)).toEqual(['3.33', '3.33', '3.34']);
    expect(sale).toMatchObject({ subtotal: '100.00', discountAmount: '10.00', totalAmount: '90.00' });
    // VAT on each net of 30.00: 30.00 x 0.16 / 1.16 = 4.1379 -> 4.14, three times.
    expect(sale.lines.map((l) => l.taxAmount)).toEqual(['4.14', '4.14', '4.14']);
    expect(sale.taxAmount).toBe('12.42');
    expect(sale.taxLines).toEqual([{ category: 'STANDARD', rate: '0.1600', taxableAmount: '77.58', taxAmount: '12.42' }]);
  });

  it('gives an odd ngwee to the largest remainder, ties to the earlier line', () => {
    const one = priceSale([line('10.00'), line('10.00'), line('10.00')], { pricesIncludeTax: true, discountAmount: '0.01' });
    expect(one.lines.map((l) => l.discountAmount)).toEqual(['0.01', '0.00', '0.00']);
    const five = priceSale([line('1.00'), line('1.00'), line('1.00')], { pricesIncludeTax: true, discountAmount: '0.05' });
    expect(five.lines.map((l) => l.discountAmount)).toEqual(['0.02', '0.02', '0.01']);
    // Exact shares 0.0225 and 0.0275: the later line's larger remainder beats the earlier index.
    const uneven = priceSale([line('4.50'), line('5.50')], { pricesIncludeTax: true, discountAmount: '0.05' });
    expect(uneven.lines.map((l) => l.discountAmount)).toEqual(['0.02', '0.03']);
  });

  it('always adds the line discounts up to the sale discount', () => {
    const prices = ['0.07', '13.13', '1.99', '250.00', '0.01', '47.47', '3.33'];
    for (const discount of ['0.01', '0.99', '7.77', '100.00', '315.99']) {
      const sale = priceSale(prices.map((p) => line(p)), { pricesIncludeTax: true, discountAmount: discount });
      const spread = sale.lines.reduce((s, l) => s.plus(l.discountAmount), new Decimal(0));
      expect(spread.toFixed(2)).toBe(discount);
      expect(sale.discountAmount).toBe(discount);
      for (const l of sale.lines) expect(new Decimal(l.discountAmount).lte(l.lineTotal)).toBe(true);
    }
  });

  it('gives no discount to a line worth nothing', () => {
    const sale = priceSale([line('0.00'), line('3.00'), line('0.00')], { pricesIncludeTax: true, discountAmount: '1.00' });
    expect(sale.lines.map((l) => l.discountAmount)).toEqual(['0.00', '1.00', '0.00']);
  });

  it('refuses a discount above the subtotal', () => {
    const err = expectRefused(() => priceSale([line('10.00')], { pricesIncludeTax: true, discountAmount: '10.01' }), 'input.discountAmount');
    expect(err.message).toContain('10.00');
  });

  it('refuses a malformed discount', () => {
    expectRefused(() => priceSale([line('10.00')], { pricesIncludeTax: true, discountAmount: '-1.00' }), 'input.discountAmount');
    expectRefused(() => priceSale([line('10.00')], { pricesIncludeTax: true, discountAmount: '0.005' }), 'input.discountAmount');
  });

  it('brings the total to 0.00 with a discount of the whole subtotal', () => {
    for (const pricesIncludeTax of [true, false]) {
      const sale = priceSale([line('12.34'), line('5.66', 2, 'ZERO_RATED', '0.0000')], { pricesIncludeTax, discountAmount: '23.66' });
      expect(sale).toMatchObject({ subtotal: '23.66', discountAmount: '23.66', taxAmount: '0.00', totalAmount: '0.00' });
      expect(sale.taxLines.map((t) => t.taxableAmount)).toEqual(['0.00', '0.00']);
    }
  });
});

describe('priceSale: bad lines', () => {
  it('refuses a quantity that is not a whole number above zero', () => {
    expectRefused(() => priceSale([line('1.00', 0)], inclusive), 'lines[0].quantity');
    expectRefused(() => priceSale([line('1.00'), line('1.00', 1.5)], inclusive), 'lines[1].quantity');
  });

  it('refuses a malformed unit price or a rate that is not a fraction', () => {
    expectRefused(() => priceSale([line('25.505')], inclusive), 'lines[0].unitPrice');
    expectRefused(() => priceSale([line('1.00', 1, 'STANDARD', '16')], inclusive), 'lines[0].taxRate');
  });
});

describe('decimalString', () => {
  it('accepts money strings with up to two decimals', () => {
    expect(decimalString('0', 'f').toFixed(2)).toBe('0.00');
    expect(decimalString('25.5', 'f').toFixed(2)).toBe('25.50');
    expect(decimalString('999999999999.99', 'f').toFixed(2)).toBe('999999999999.99');
  });

  it('refuses anything else, naming the field', () => {
    for (const bad of ['', '1.005', '-1', '1e3', ' 1', '1,000.00', '.5', '1.', '1234567890123', 'NaN']) {
      expectRefused(() => decimalString(bad, 'input.payments[0].amount'), 'input.payments[0].amount');
    }
  });
});

describe('planPayments: one payment', () => {
  it('takes the cash handed over and gives change', () => {
    const plan = planPayments('87.50', 'CASH', undefined, '100');
    expect(plan.payments).toEqual([
      { method: 'CASH', amount: '87.50', tendered: '100.00', changeGiven: '12.50', status: 'COMPLETED', providerReference: null },
    ]);
    expect(plan).toMatchObject({ paymentStatus: 'PAID', changeGiven: '12.50' });
  });

  it('treats cash without a tendered amount as exact', () => {
    const plan = planPayments('87.50', 'CASH', null, null);
    expect(plan.payments[0]).toMatchObject({ tendered: '87.50', changeGiven: '0.00' });
    expect(plan.changeGiven).toBe('0.00');
  });

  it('records a card payment with no tender or change', () => {
    const plan = planPayments('87.50', 'CARD', null);
    expect(plan.payments[0]).toMatchObject({ method: 'CARD', amount: '87.50', tendered: null, changeGiven: null, status: 'COMPLETED' });
    expect(plan).toMatchObject({ paymentStatus: 'PAID', changeGiven: '0.00' });
  });

  it('leaves a mobile-money payment PENDING', () => {
    const plan = planPayments('87.50', 'MOBILE_MONEY', undefined);
    expect(plan.payments[0]!.status).toBe('PENDING');
    expect(plan.paymentStatus).toBe('PENDING');
  });

  it('refuses less cash than the total', () => {
    const err = expectRefused(() => planPayments('87.50', 'CASH', undefined, '87.49'), 'input.tendered');
    expect(err.message).toContain('87.50');
  });

  it('refuses a tendered amount with a card payment', () => {
    expectRefused(() => planPayments('87.50', 'CARD', undefined, '100.00'), 'input.tendered');
  });

  it('refuses a malformed tendered amount', () => {
    expectRefused(() => planPayments('87.50', 'CASH', undefined, '100.001'), 'input.tendered');
  });
});

describe('planPayments: split', () => {
  it('splits cash and card, with change on the cash and the card reference trimmed', () => {
    const plan = planPayments('90.00', 'CARD', [
      { method: 'CASH', amount: '50.00', tendered: '100.00' },
      { method: 'CARD', amount: '40', reference: '  AUTH-991 ' },
    ]);
    expect(plan.payments).toEqual([
      { method: 'CASH', amount: '50.00', tendered: '100.00', changeGiven: '50.00', status: 'COMPLETED', providerReference: null },
      { method: 'CARD', amount: '40.00', tendered: null, changeGiven: null, status: 'COMPLETED', providerReference: 'AUTH-991' },
    ]);
    expect(plan).toMatchObject({ paymentStatus: 'PAID', changeGiven: '50.00' });
  });

  it('adds up the change of several cash payments', () => {
    const plan = planPayments('30.00', 'CASH', [
      { method: 'CASH', amount: '10.00', tendered: '20.00' },
      { method: 'CASH', amount: '20.00', tendered: '20.50' },
    ]);
    expect(plan.changeGiven).toBe('10.50');
  });

  it('is PARTIALLY_PAID while a mobile-money part awaits approval, PENDING when all of it does', () => {
    const partial = planPayments('90.00', 'CASH', [
      { method: 'CASH', amount: '50.00' },
      { method: 'MOBILE_MONEY', amount: '40.00', reference: 'MTN-123' },
    ]);
    expect(partial.payments.map((p) => p.status)).toEqual(['COMPLETED', 'PENDING']);
    expect(partial.payments[1]!.providerReference).toBe('MTN-123');
    expect(partial.paymentStatus).toBe('PARTIALLY_PAID');

    const pending = planPayments('90.00', 'MOBILE_MONEY', [
      { method: 'MOBILE_MONEY', amount: '45.00', reference: '   ' },
      { method: 'MOBILE_MONEY', amount: '45.00' },
    ]);
    expect(pending.paymentStatus).toBe('PENDING');
    expect(pending.payments[0]!.providerReference).toBeNull();
  });

  it('refuses payments that do not add up to the total, saying what the total is', () => {
    const err = expectRefused(
      () => planPayments('90.00', 'CASH', [{ method: 'CASH', amount: '50.00' }, { method: 'CARD', amount: '39.99' }]),
      'input.payments',
    );
    expect(err.message).toContain('89.99');
    expect(err.message).toContain('90.00');
  });

  it('refuses a primary method that none of the payments uses', () => {
    expectRefused(() => planPayments('90.00', 'INSURANCE', [{ method: 'CASH', amount: '90.00' }]), 'input.paymentMethod');
  });

  it('refuses empty, zero or malformed payment lines', () => {
    expectRefused(() => planPayments('90.00', 'CASH', []), 'input.payments');
    expectRefused(() => planPayments('90.00', 'CASH', [{ method: 'CASH', amount: '90.00' }, { method: 'CARD', amount: '0.00' }]), 'input.payments[1].amount');
    expectRefused(() => planPayments('90.00', 'CASH', [{ method: 'CASH', amount: '90.001' }]), 'input.payments[0].amount');
  });

  it('takes a tendered amount only on a cash line, and not less than its amount', () => {
    expectRefused(
      () => planPayments('90.00', 'CASH', [{ method: 'CASH', amount: '50.00' }, { method: 'CARD', amount: '40.00', tendered: '40.00' }]),
      'input.payments[1].tendered',
    );
    expectRefused(() => planPayments('90.00', 'CASH', [{ method: 'CASH', amount: '90.00', tendered: '80.00' }]), 'input.payments[0].tendered');
  });

  it('refuses the top-level tendered amount alongside split payments', () => {
    expectRefused(() => planPayments('90.00', 'CASH', [{ method: 'CASH', amount: '90.00' }], '100.00'), 'input.tendered');
  });
});

describe('planPayments: nothing to pay', () => {
  it('records no payment for a total of 0.00 and counts the sale as paid', () => {
    for (const payments of [undefined, null, []]) {
      expect(planPayments('0.00', 'CASH', payments)).toEqual({ payments: [], paymentStatus: 'PAID', changeGiven: '0.00' });
    }
    expect(planPayments('0.00', 'MOBILE_MONEY', undefined).paymentStatus).toBe('PAID');
  });

  it('refuses a payment line or cash handed over when the total is 0.00', () => {
    expectRefused(() => planPayments('0.00', 'CASH', [{ method: 'CASH', amount: '0.00' }]), 'input.payments');
    expectRefused(() => planPayments('0.00', 'CASH', undefined, '10.00'), 'input.tendered');
  });
});
