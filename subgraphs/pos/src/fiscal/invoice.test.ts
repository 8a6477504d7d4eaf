import { paymentTypeOf, saveSalesPayload, vsdcDateTime, type FiscalItem } from './invoice';

const item = (code: string, vatCategory: string): FiscalItem => ({
  itemCode: code,
  itemClassCode: '51000000',
  packagingUnit: 'BX',
  quantityUnit: 'U',
  originCountry: 'ZM',
  name: `Item ${code}`,
  vatCategory,
  active: true,
  defaultPrice: '0',
});
const device = { tpin: '1000000001', bhfId: '000', dvcSrlNo: 'D1' };

describe('saveSales payload', () => {
  it('writes the VSDC time in Zambian time (UTC+2)', () => {
    expect(vsdcDateTime(new Date('2026-03-15T22:30:05Z'))).toBe('20260316003005');
  });

  it('takes the largest tender as the payment type, the first on a tie', () => {
    expect(paymentTypeOf([{ method: 'CASH', amount: '40.00' }, { method: 'MOBILE_MONEY', amount: '60.00' }], 'CASH')).toBe('06');
    expect(paymentTypeOf([{ method: 'CASH', amount: '50.00' }, { method: 'CARD', amount: '50.00' }], 'CARD')).toBe('01');
    expect(paymentTypeOf([], 'INSURANCE')).toBe('02');
  });

  it('turns a sale discount into dcAmt and keeps the line VAT as the sale rounded it', () => {
    const p = saveSalesPayload({
      device,
      invoiceNumber: 'X-1',
      type: 'S',
      paymentCode: '01',
      at: new Date('2026-03-15T08:00:00Z'),
      pricesIncludeTax: true,
      lines: [{ item: item('A1', 'A'), quantity: 3, unitPrice: '10.00', taxRate: '0.1600', amount: '27.00', taxAmount: '3.72' }],
    });
    expect(p).toMatchObject({ cfmDt: '20260315100000', salesDt: '20260315', orgInvcNo: 0, rfdRsnCd: null, taxblAmtA: 23.28, taxAmtA: 3.72, totAmt: 27 });
    expect((p.itemList as object[])[0]).toMatchObject({ prc: 10, splyAmt: 30, dcAmt: 3, dcRt: 10, totAmt: 27, vatAmt: 3.72, vatTaxblAmt: 23.28 });
  });

  it('sends VAT-inclusive prices when the tenant prices exclude VAT', () => {
    const p = saveSalesPayload({
      device,
      invoiceNumber: 'X-2',
      type: 'R',
      originalReceiptNumber: 7,
      reasonCode: '2',
      paymentCode: '05',
      at: new Date('2026-03-15T08:00:00Z'),
      pricesIncludeTax: false,
      lines: [{ item: item('A1', 'A'), quantity: 2, unitPrice: '10.00', taxRate: '0.1600', amount: '23.20', taxAmount: '3.20' }],
    });
    expect(p).toMatchObject({ rcptTyCd: 'R', orgInvcNo: 7, rfdRsnCd: '2', rfdDt: '20260315100000', taxblAmtA: 20, taxAmtA: 3.2, totAmt: 23.2 });
    expect((p.itemList as object[])[0]).toMatchObject({ prc: 11.6, dcAmt: 0, totAmt: 23.2 });
  });
});
