import { startVsdcSimulator, type VsdcSimulator } from './index';
import { DEVICE, ITEMS, sale, vsdcClient, withLine } from './vsdc/test-fixtures';

let sim: VsdcSimulator;
beforeAll(async () => {
  sim = await startVsdcSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.control.reset());
const { call, init } = vsdcClient(() => sim);

describe('saveSales', () => {
  beforeEach(() => init());

  it('fiscalises a sale: sequential receipt number, signature, internal data, SDC id, MRC number, time, QR link', async () => {
    const r = await call('/trnsSales/saveSales', sale());
    expect(r).toMatchObject({ resultCd: '000', resultMsg: 'It is succeeded', data: { rcptNo: 1, sdcId: 'SDC0010000001', mrcNo: 'WIS00000001' } });
    expect(r.data.intrlData).toMatch(/^[A-Z2-7]{26}$/);
    expect(r.data.rcptSign).toMatch(/^[A-Z2-7]{16}$/);
    expect(r.data.vsdcRcptPbctDate).toMatch(/^20\d{12}$/);
    const link = await (await fetch(r.data.qrCodeUrl)).json();
    expect(link).toMatchObject({ cisInvcNo: 'UMI-000001', rcptNo: 1, rcptSign: r.data.rcptSign, totAmt: 303.25 });

    const second = await call('/trnsSales/saveSales', sale({ cisInvcNo: 'UMI-000002' }));
    expect(second.data.rcptNo).toBe(2);
    expect(second.data.rcptSign).not.toBe(r.data.rcptSign);
    expect(sim.invoices.map((i) => [i.cisInvcNo, i.receipt.rcptNo])).toEqual([['UMI-000001', 1], ['UMI-000002', 2]]);
    expect(sim.invoice('UMI-000001')!.payload).toMatchObject({ taxblAmtA: 172.4138, taxAmtA: 27.5862, taxblAmtC3: 91, taxblAmtD: 12.25, pmtTyCd: '06' });
  });

  it('numbers receipts per device', async () => {
    const other = { ...DEVICE, bhfId: '001', dvcSrlNo: 'SIM-VSDC-0002' };
    await init(other);
    await call('/trnsSales/saveSales', sale());
    const r = await call('/trnsSales/saveSales', sale(), other);
    expect(r.data).toMatchObject({ rcptNo: 1, sdcId: 'SDC0010000002' });
  });

  it('is idempotent by cisInvcNo: the same invoice again gets the same receipt, never a second number', async () => {
    const first = await call('/trnsSales/saveSales', sale());
    const again = await call('/trnsSales/saveSales', sale({ cfmDt: '20260315101600' }));
    expect(again).toMatchObject({ resultCd: '000', data: first.data });
    expect(sim.invoices).toHaveLength(1);
    expect(sim.invoice('UMI-000001')!.duplicates).toBe(1);
    const next = await call('/trnsSales/saveSales', sale({ cisInvcNo: 'UMI-000002' }));
    expect(next.data.rcptNo).toBe(2);
    const conflicting = await call('/trnsSales/saveSales', withLine(2, { qty: 2, splyAmt: 24.5, vatTaxblAmt: 24.5, totAmt: 24.5 }, { taxblAmtD: 24.5, totTaxblAmt: 287.9138, totAmt: 315.5 }));
    expect(conflicting).toMatchObject({ resultCd: '994', resultMsg: expect.stringContaining('cisInvcNo UMI-000001 was already used for a different invoice') });
  });

  it('takes a credit note (R) that references a sale receipt of the branch, with a reason code', async () => {
    await call('/trnsSales/saveSales', sale());
    const credit = sale({ cisInvcNo: 'UMI-CN-000001', rcptTyCd: 'R', orgInvcNo: 1, rfdRsnCd: '3', rfdDt: '20260316090000' });
    const r = await call('/trnsSales/saveSales', credit);
    expect(r).toMatchObject({ resultCd: '000', data: { rcptNo: 2 } });
    expect(sim.invoice('UMI-CN-000001')).toMatchObject({ rcptTyCd: 'R', orgInvcNo: 1, payload: { rfdRsnCd: '3' } });

    const noReason = await call('/trnsSales/saveSales', { ...credit, cisInvcNo: 'UMI-CN-2', rfdRsnCd: null });
    expect(noReason.resultMsg).toContain('rfdRsnCd: a credit note (R) needs a reason code');
    const badReason = await call('/trnsSales/saveSales', { ...credit, cisInvcNo: 'UMI-CN-2', rfdRsnCd: '9' });
    expect(badReason.resultMsg).toContain('rfdRsnCd: not a code of class 32');
    const unknown = await call('/trnsSales/saveSales', { ...credit, cisInvcNo: 'UMI-CN-2', orgInvcNo: 77 });
    expect(unknown.resultMsg).toContain('orgInvcNo: no sale receipt 77 on branch 000');
    const ofCreditNote = await call('/trnsSales/saveSales', { ...credit, cisInvcNo: 'UMI-CN-2', orgInvcNo: 2 });
    expect(ofCreditNote.resultMsg).toContain('orgInvcNo: no sale receipt 2');
    const noOriginal = await call('/trnsSales/saveSales', { ...credit, cisInvcNo: 'UMI-CN-2', orgInvcNo: 0 });
    expect(noOriginal.resultMsg).toContain("orgInvcNo: a credit note (R) must carry the original sale's receipt number");

    const otherBranch = { ...DEVICE, bhfId: '002', dvcSrlNo: 'SIM-VSDC-0003' };
    await init(otherBranch);
    const elsewhere = await call('/trnsSales/saveSales', credit, otherBranch);
    expect(elsewhere.resultMsg).toContain('orgInvcNo: no sale receipt 1 on branch 002');
    expect(sim.invoices).toHaveLength(2);
  });

  it('checks the sale field by field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [sale({ cisInvcNo: '' }), 'cisInvcNo: is required'],
      [sale({ orgInvcNo: 5 }), 'orgInvcNo: must be 0 on a sale (S)'],
      [sale({ rfdRsnCd: '1' }), 'rfdRsnCd: only a credit note (R) carries a reason code'],
      [sale({ rcptTyCd: 'X' }), 'rcptTyCd: not a code of class 37'],
      [sale({ rcptTyCd: 'D' }), 'rcptTyCd: D (debit note) is not simulated'],
      [sale({ salesTyCd: 'T' }), 'salesTyCd: T is not a normal sale'],
      [sale({ pmtTyCd: '08' }), 'pmtTyCd: not a code of class 07 (Payment Type)'],
      [sale({ salesSttsCd: '09' }), 'salesSttsCd: not a code of class 11'],
      [sale({ salesDt: '2026-03-15' }), 'salesDt: must be a date written yyyyMMdd'],
      [sale({ cfmDt: '20261315101500' }), 'cfmDt: must be a date and time written yyyyMMddHHmmss'],
      [sale({ custTpin: '123' }), 'custTpin: must be a 10-digit TPIN'],
      [sale({ currencyTyCd: 'USD' }), 'currencyTyCd: USD is not accepted'],
      [sale({ currencyTyCd: 'EUR' }), 'currencyTyCd: not a code of class 33'],
      [sale({ totItemCnt: 2 }), 'totItemCnt: 2 but itemList has 3 lines'],
      [sale({ taxRtA: 15 }), 'taxRtA: the rate of category A is 16, got 15'],
      [sale({ taxblAmtA: 172 }), 'taxblAmtA: the lines in category A add up to 172.4138, got 172.0000'],
      [sale({ taxAmtA: 28 }), 'taxAmtA: the lines in category A add up to 27.5862, got 28.0000'],
      [sale({ taxblAmtC3: undefined }), 'taxblAmtC3: Invalid input: expected number'],
      [sale({ taxblAmtD: 0 }), 'taxblAmtD: the lines in category D add up to 12.2500, got 0.0000'],
      [sale({ totTaxblAmt: 275 }), 'totTaxblAmt: the categories add up to 275.6638'],
      [sale({ totTaxAmt: 0 }), 'totTaxAmt: the categories add up to 27.5862'],
      [sale({ totAmt: 300 }), 'totAmt: the lines add up to 303.2500, got 300.0000'],
      [sale({ totAmt: 303.25001 }), 'totAmt: at most 4 decimal places'],
      [sale({ regrId: '' }), 'regrId: is required'],
      [sale({ itemList: [] }), 'itemList: an invoice has at least one line'],
      [withLine(0, { itemSeq: 5 }), 'itemList[0].itemSeq: expected 1, got 5'],
      [withLine(0, { itemCd: 'ZM2BXU9999999' }), 'itemList[0].itemCd: ZM2BXU9999999 is not registered on this branch (saveItem first)'],
      [withLine(0, { itemClsCd: '51100000' }), 'itemList[0].itemClsCd: ZM2BXU0000001 is registered with 51101500, got 51100000 (updateItem first)'],
      [withLine(0, { pkgUnitCd: 'CT' }), 'itemList[0].pkgUnitCd: ZM2BXU0000001 is registered with BX'],
      [withLine(0, { qtyUnitCd: 'KGM' }), 'itemList[0].qtyUnitCd: ZM2BXU0000001 is registered with U'],
      [withLine(1, { vatCatCd: 'D' }), 'itemList[1].vatCatCd: ZM2BXU0000002 is registered with C3, got D'],
      [withLine(0, { qty: 0 }), 'itemList[0].qty: must be more than 0'],
      [withLine(0, { prc: '100' }), 'itemList[0].prc: Invalid input: expected number'],
      [withLine(0, { splyAmt: 150 }), 'itemList[0].splyAmt: qty x prc is 200.0000, got 150.0000'],
      [withLine(0, { totAmt: 190 }), 'itemList[0].totAmt: qty x prc - dcAmt is 200.0000, got 190.0000'],
      [withLine(0, { dcRt: 10, dcAmt: 5 }), 'itemList[0].dcAmt: 10% of 200.0000 is 20.0000, got 5.0000'],
      [withLine(0, { vatAmt: 32, vatTaxblAmt: 168 }), 'itemList[0].vatAmt: 16% VAT contained in 200.0000 is 27.5862, got 32.0000'],
      [withLine(0, { vatTaxblAmt: 200 }), 'itemList[0].vatTaxblAmt: vatTaxblAmt + vatAmt must equal totAmt 200.0000'],
      [withLine(1, { vatAmt: 12.55, vatTaxblAmt: 78.45 }), 'itemList[1].vatAmt: 0% VAT contained in 91.0000 is 0.0000, got 12.5500'],
      [withLine(0, { itemNm: undefined }), 'itemList[0].itemNm:'],
    ];
    for (const [body, message] of cases) {
      const r = await call('/trnsSales/saveSales', body);
      expect({ message, resultCd: r.resultCd, resultMsg: r.resultMsg }).toEqual({ message, resultCd: '910', resultMsg: expect.stringContaining(message) });
    }
    expect(sim.invoices).toHaveLength(0);
  });

  it('accepts a discount line and amounts rounded to the ngwee (within the tolerance)', async () => {
    const discounted = withLine(0, { dcRt: 10, dcAmt: 20, totAmt: 180, vatTaxblAmt: 155.17, vatAmt: 24.83 }, { taxblAmtA: 155.17, taxAmtA: 24.83, totTaxblAmt: 258.42, totTaxAmt: 24.83, totAmt: 283.25 });
    expect(await call('/trnsSales/saveSales', discounted)).toMatchObject({ resultCd: '000', data: { rcptNo: 1 } });
  });

  it('needs the category fields of any other category a line uses (E, RVAT, TOT)', async () => {
    await call('/items/updateItem', { ...ITEMS.bandage, vatCatCd: 'E', itemTyCd: '2', orgnNatCd: 'IN', useYn: 'Y', modrId: 'umi', modrNm: 'Umi' });
    const r = await call('/trnsSales/saveSales', withLine(2, { vatCatCd: 'E' }, { taxblAmtD: 0 }));
    expect(r.resultMsg).toContain('taxblAmtE, taxRtE, taxAmtE: required, itemList[2] is in category E');
    const ok = await call('/trnsSales/saveSales', withLine(2, { vatCatCd: 'E' }, { taxblAmtD: 0, taxblAmtE: 12.25, taxRtE: 0, taxAmtE: 0 }));
    expect(ok.resultCd).toBe('000');
  });

  it('records every request so a test can read the payload field by field', async () => {
    await call('/trnsSales/saveSales', sale());
    const last = sim.requests[sim.requests.length - 1]!;
    expect(last).toMatchObject({ method: 'POST', path: '/zravsdc/trnsSales/saveSales', headers: { 'content-type': 'application/json' }, response: { status: 200 } });
    expect((last.body as { itemList: { vatCatCd: string }[] }).itemList.map((l) => l.vatCatCd)).toEqual(['A', 'C3', 'D']);
  });
});
