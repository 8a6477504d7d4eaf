import { renderReceipt, type ReceiptData } from './receipt';

const LONG_NAME = 'Amoxicillin and Clavulanate Potassium 875 mg/125 mg film-coated tablets, pack of fourteen';

function receipt(overrides: Partial<ReceiptData> = {}): ReceiptData {
  return {
    tenantName: 'Umi Pharmacy Ltd',
    tpin: '1002345678',
    branchName: 'Cairo Road',
    branchCode: 'LSK01',
    timezone: 'Africa/Lusaka',
    saleNumber: 'LSK01-000123',
    createdAt: new Date('2026-01-31T22:30:00Z'),
    cashier: 'Jane Banda',
    status: 'COMPLETED',
    pricesIncludeTax: true,
    items: [
      { name: 'Paracetamol 500mg x20', quantity: 2, unitPrice: '25.5', lineTotal: '51.00', taxCategory: 'STANDARD', batchNumber: 'PCM2401' },
      { name: 'Oral rehydration salts', quantity: 1, unitPrice: '30.00', lineTotal: '30.00', taxCategory: 'ZERO_RATED', batchNumber: 'ORS77' },
      { name: 'Thermometer', quantity: 1, unitPrice: '19.00', lineTotal: '19.00', taxCategory: 'EXEMPT', batchNumber: 'TH9' },
    ],
    subtotal: '100.00',
    discountAmount: '10.00',
    taxAmount: '6.34',
    totalAmount: '90.00',
    taxLines: [
      { category: 'STANDARD', rate: '0.1600', taxableAmount: '39.66', taxAmount: '6.34' },
      { category: 'ZERO_RATED', rate: '0.0000', taxableAmount: '27.00', taxAmount: '0.00' },
      { category: 'EXEMPT', rate: '0.0000', taxableAmount: '17.00', taxAmount: '0.00' },
    ],
    payments: [
      { method: 'CASH', amount: '50.00', tendered: '100.00', changeGiven: '50.00', status: 'COMPLETED' },
      { method: 'MOBILE_MONEY', amount: '40.00', tendered: null, changeGiven: null, status: 'PENDING' },
    ],
    zraReceiptNumber: '20260201-LSK01-0042',
    ...overrides,
  };
}

function lines(text: string): string[] {
  return text.split('\n');
}

function lineStarting(text: string, start: string): string {
  const found = lines(text).find((l) => l.startsWith(start));
  if (found === undefined) throw new Error(`no line starts with ${JSON.stringify(start)} in\n${text}`);
  return found;
}

describe('renderReceipt', () => {
  it('keeps every line within the width, long names and headers included', () => {
    const data = receipt({
      tenantName: 'Lusaka Community Pharmaceutical Cooperative Society Limited',
      branchName: 'Great East Road Shopping Mall Branch',
      items: [{ name: LONG_NAME, quantity: 120, unitPrice: '999999.99', lineTotal: '119999998.80', taxCategory: 'ZERO_RATED', batchNumber: 'AMX-2026-LONG-BATCH-0001' }],
    });
    for (const width of [40, 32, 24]) {
      const text = renderReceipt(data, width);
      for (const l of lines(text)) expect(l.length).toBeLessThanOrEqual(width);
      expect(text).toContain('119999998.80 C3');
      // Too long to share a line with its total at 24 columns: moved above it, never cut.
      expect(text).toContain('120 x 999999.99');
    }
  });

  it('wraps a long product name over several lines without losing a word', () => {
    const text = renderReceipt(receipt({ items: [{ ...receipt().items[0]!, name: LONG_NAME }] }), 32);
    const start = lines(text).findIndex((l) => l.startsWith('Amoxicillin'));
    const block = lines(text).slice(start);
    const nameLines = block.slice(0, block.findIndex((l) => l.includes(' x ')));
    expect(nameLines.length).toBeGreaterThan(1);
    expect(nameLines.map((l) => l.trim()).join(' ')).toBe(LONG_NAME);
  });

  it('cuts a word longer than a whole line', () => {
    const word = 'X'.repeat(70);
    const text = renderReceipt(receipt({ items: [{ ...receipt().items[0]!, name: word }] }), 40);
    const pieces = lines(text).filter((l) => /^\s*X+$/.test(l));
    expect(pieces.map((l) => l.trim()).join('')).toBe(word);
    for (const l of pieces) expect(l.length).toBeLessThanOrEqual(40);
  });

  it('shows the header: tenant, TPIN, branch, sale number, cashier', () => {
    const text = renderReceipt(receipt());
    expect(text).toContain('Umi Pharmacy Ltd');
    expect(text).toContain('TPIN: 1002345678');
    expect(text).toContain('Cairo Road (LSK01)');
    expect(text).toContain('LSK01-000123');
    expect(text).toContain('Jane Banda');
    expect(renderReceipt(receipt({ tpin: null }))).not.toContain('TPIN');
  });

  it('prints the time in the branch zone, not in UTC', () => {
    expect(renderReceipt(receipt())).toContain('2026-02-01 00:30');
    expect(renderReceipt(receipt())).not.toContain('2026-01-31');
    // A second zone must not reuse the first zone's cached formatter.
    expect(renderReceipt(receipt({ timezone: 'UTC' }))).toContain('2026-01-31 22:30');
    expect(renderReceipt(receipt({ createdAt: new Date('2026-06-30T22:00:00Z') }))).toContain('2026-07-01 00:00');
  });

  it('marks each item with its ZRA tax code next to the right-aligned line total', () => {
    const text = renderReceipt(receipt());
    expect(lineStarting(text, '  2 x 25.50')).toMatch(/\s51\.00 A$/);
    expect(lineStarting(text, '  1 x 30.00')).toMatch(/\s30\.00 C3$/);
    expect(lineStarting(text, '  1 x 19.00')).toMatch(/\s19\.00 D$/);
    expect(text).toContain('Batch PCM2401');
  });

  it('lines up every amount in one column', () => {
    const text = renderReceipt(receipt());
    const ends = ['  2 x 25.50', '  1 x 30.00', 'SUBTOTAL', 'DISCOUNT', 'TOTAL ZMW', 'CASH', '  CHANGE'].map((start) => {
      const l = lineStarting(text, start);
      return l.search(/\d\.\d\d(\s+[A-Z0-9]{1,2})?$/) + 4;
    });
    expect(new Set(ends).size).toBe(1);
    expect(ends[0]).toBe(40 - 3);
  });

  it('shows subtotal, discount, VAT by category and the total', () => {
    const text = renderReceipt(receipt());
    expect(lineStarting(text, 'SUBTOTAL')).toMatch(/\s100\.00$/);
    expect(lineStarting(text, 'DISCOUNT')).toMatch(/\s-10\.00$/);
    expect(lineStarting(text, 'VAT A 16.00% incl.')).toMatch(/\s6\.34$/);
    expect(lineStarting(text, 'TAXABLE A 16.00%')).toMatch(/\s39\.66$/);
    expect(lineStarting(text, 'VAT C3 0.00% incl.')).toMatch(/\s0\.00$/);
    expect(lineStarting(text, 'VAT D 0.00% incl.')).toMatch(/\s0\.00$/);
    expect(lineStarting(text, 'TOTAL ZMW')).toMatch(/\s90\.00$/);
  });

  it('leaves the discount out when there is none, and "incl." when prices exclude tax', () => {
    const text = renderReceipt(receipt({ discountAmount: '0.00', pricesIncludeTax: false }));
    expect(text).not.toContain('DISCOUNT');
    expect(text).not.toContain('incl.');
    expect(lineStarting(text, 'VAT A 16.00')).toMatch(/^VAT A 16\.00%\s+6\.34$/);
  });

  it('shows cash tendered and change, and marks a pending payment', () => {
    const text = renderReceipt(receipt());
    expect(lineStarting(text, 'CASH')).toMatch(/\s50\.00$/);
    expect(lineStarting(text, '  TENDERED')).toMatch(/\s100\.00$/);
    expect(lineStarting(text, '  CHANGE')).toMatch(/\s50\.00$/);
    expect(lineStarting(text, 'MOBILE MONEY')).toMatch(/^MOBILE MONEY PENDING\s+40\.00$/);
  });

  it('prints the ZRA receipt number, or that it is pending', () => {
    expect(renderReceipt(receipt())).toContain('ZRA receipt: 20260201-LSK01-0042');
    expect(renderReceipt(receipt({ zraReceiptNumber: null }))).toContain('ZRA receipt: pending');
  });

  it('prints the fiscal block once fiscalised: receipt number, VSDC time, SDC and MRC, internal data, signature and the whole QR content within the width', () => {
    const qr = 'http://localhost:8080/common/link/ebm/receipt/indexEbmReceiptData?Data=1002345678000ABCDEFGHIJKLMNOP';
    const text = renderReceipt(
      receipt({
        zraReceiptNumber: '42',
        fiscal: {
          invoiceNumber: 'LSK01-000123',
          receiptNumber: '42',
          sdcId: 'SDC0010000001',
          mrcNumber: 'WIS00000001',
          vsdcTime: '20260201003012',
          internalData: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
          signature: 'ABCDEFGHIJKLMNOP',
          qrContent: qr,
        },
      }),
    );
    expect(lines(text).every((l) => l.length <= 40)).toBe(true);
    expect(text).toMatch(/ZRA SMART INVOICE/);
    expect(text).toMatch(/Receipt no\.\s+42\n/);
    expect(text).toMatch(/VSDC time\s+2026-02-01 00:30:12/);
    expect(text).toContain('SDC0010000001');
    expect(text).toContain('WIS00000001');
    expect(text.split('QR:\n')[1]!.split('\n\n')[0]!.split('\n').map((l) => l.trim()).join('')).toBe(qr);
    expect(renderReceipt(receipt())).not.toContain('ZRA SMART INVOICE');
  });

  it('marks a refunded or voided sale, and only those', () => {
    expect(renderReceipt(receipt({ status: 'REFUNDED' }))).toContain('*** REFUNDED ***');
    expect(renderReceipt(receipt({ status: 'VOIDED' }))).toContain('*** VOIDED ***');
    expect(renderReceipt(receipt())).not.toContain('***');
  });

  it('ends with a thank-you', () => {
    expect(lines(renderReceipt(receipt())).filter(Boolean).at(-1)).toMatch(/Thank you/);
  });
});
