import { CODE_CLASSES, startVsdcSimulator, type FiscalReceipt, type VsdcSimulator } from './index';
import { ITEM_CLASSES } from './vsdc/codes';

const DEVICE = { tpin: '1000000001', bhfId: '000', dvcSrlNo: 'SIM-VSDC-0001' };

let sim: VsdcSimulator;
beforeAll(async () => {
  sim = await startVsdcSimulator({ itemClassPageSize: 5 });
});
afterAll(() => sim.close());
beforeEach(() => sim.control.reset());

async function call(path: string, body: unknown, device: object = DEVICE) {
  const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...device, ...(body as object) }) });
  expect(res.status).toBe(200);
  return (await res.json()) as Answer;
}

interface Answer {
  resultCd: string;
  resultMsg: string;
  resultDt: string;
  data: FiscalReceipt & {
    info: Record<string, unknown>;
    clsList: { cdCls: string; dtlList: { cd: string; userDfnCd1: string | null }[] }[];
    itemClsList: { itemClsCd: string; useUpdDt: string; itemClsLvl: number }[];
    itemList: Record<string, unknown>[];
  };
}

const ITEMS = {
  amoxicillin: { itemCd: 'ZM2BXU0000001', itemClsCd: '51101500', itemNm: 'Amoxicillin 500 mg capsules x21', pkgUnitCd: 'BX', qtyUnitCd: 'U', vatCatCd: 'A', dftPrc: 100 },
  paracetamol: { itemCd: 'ZM2BXU0000002', itemClsCd: '51142100', itemNm: 'Paracetamol 500 mg x100', pkgUnitCd: 'BX', qtyUnitCd: 'U', vatCatCd: 'C3', dftPrc: 45.5 },
  bandage: { itemCd: 'ZM2PAU0000003', itemClsCd: '42311500', itemNm: 'Crepe bandage 10 cm', pkgUnitCd: 'PA', qtyUnitCd: 'U', vatCatCd: 'D', dftPrc: 12.25 },
};

async function register(device: object = DEVICE) {
  for (const item of Object.values(ITEMS)) {
    const r = await call('/items/saveItem', { ...item, itemTyCd: '2', orgnNatCd: 'IN', useYn: 'Y', regrId: 'umi', regrNm: 'Umi Health' }, device);
    expect(r.resultCd).toBe('000');
  }
}

async function init(device: object = DEVICE) {
  expect((await call('/initializer/selectInitInfo', {}, device)).resultCd).toBe('000');
  await register(device);
}

const zeroCategories = { taxblAmtB: 0, taxRtB: 16, taxAmtB: 0, taxblAmtC1: 0, taxRtC1: 0, taxAmtC1: 0, taxblAmtC2: 0, taxRtC2: 0, taxAmtC2: 0 };

/** One STANDARD (A), one ZERO_RATED (C3) and one EXEMPT (D) line, VAT-inclusive prices. */
function sale(overrides: Record<string, unknown> = {}) {
  return {
    cisInvcNo: 'UMI-000001',
    orgInvcNo: 0,
    custTpin: null,
    custNm: 'Walk-in',
    salesTyCd: 'N',
    rcptTyCd: 'S',
    pmtTyCd: '06',
    salesSttsCd: '02',
    cfmDt: '20260315101500',
    salesDt: '20260315',
    stockRlsDt: '20260315101500',
    cnclReqDt: null,
    cnclDt: null,
    rfdDt: null,
    rfdRsnCd: null,
    totItemCnt: 3,
    taxblAmtA: 172.4138,
    taxRtA: 16,
    taxAmtA: 27.5862,
    taxblAmtC3: 91,
    taxRtC3: 0,
    taxAmtC3: 0,
    taxblAmtD: 12.25,
    taxRtD: 0,
    taxAmtD: 0,
    ...zeroCategories,
    totTaxblAmt: 275.6638,
    totTaxAmt: 27.5862,
    totAmt: 303.25,
    prchrAcptcYn: 'N',
    remark: '',
    regrId: 'umi',
    regrNm: 'Umi Health',
    currencyTyCd: 'ZMW',
    exchangeRt: '1',
    itemList: [
      { itemSeq: 1, ...pick(ITEMS.amoxicillin), qty: 2, prc: 100, splyAmt: 200, dcRt: 0, dcAmt: 0, vatTaxblAmt: 172.4138, vatAmt: 27.5862, totAmt: 200 },
      { itemSeq: 2, ...pick(ITEMS.paracetamol), qty: 2, prc: 45.5, splyAmt: 91, dcRt: 0, dcAmt: 0, vatTaxblAmt: 91, vatAmt: 0, totAmt: 91 },
      { itemSeq: 3, ...pick(ITEMS.bandage), qty: 1, prc: 12.25, splyAmt: 12.25, dcRt: 0, dcAmt: 0, vatTaxblAmt: 12.25, vatAmt: 0, totAmt: 12.25 },
    ],
    ...overrides,
  };
}
function pick(item: (typeof ITEMS)[keyof typeof ITEMS]) {
  const { itemCd, itemClsCd, itemNm, pkgUnitCd, qtyUnitCd, vatCatCd } = item;
  return { itemCd, itemClsCd, itemNm, pkgUnitCd, qtyUnitCd, vatCatCd };
}
/** The valid sale with one line changed. */
function withLine(index: number, change: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  const s = sale(overrides);
  return { ...s, itemList: s.itemList.map((l, i) => (i === index ? { ...l, ...change } : l)) };
}

describe('device initialisation', () => {
  it('registers a device once with its SDC id and MRC number, then answers 902', async () => {
    const first = await call('/initializer/selectInitInfo', {});
    expect(first).toMatchObject({ resultCd: '000', resultMsg: 'It is succeeded', data: { info: { tpin: DEVICE.tpin, bhfId: '000', hqYn: 'Y', lastSaleRcptNo: 0 } } });
    expect(first.data.info.sdcId).toMatch(/^SDC\d{10}$/);
    expect(first.data.info.mrcNo).toMatch(/^WIS\d{8}$/);
    expect(first.resultDt).toMatch(/^\d{14}$/);
    expect(await call('/initializer/selectInitInfo', {})).toMatchObject({ resultCd: '902', data: null });
    expect(sim.state().devices).toHaveLength(1);
  });

  it('checks the identity field by field', async () => {
    const r = await call('/initializer/selectInitInfo', {}, { tpin: '12345', bhfId: '0', dvcSrlNo: '' });
    expect(r.resultCd).toBe('910');
    expect(r.resultMsg).toContain('tpin: must be the 10-digit TPIN');
    expect(r.resultMsg).toContain('bhfId: must be the 3-digit ZRA branch id');
    expect(r.resultMsg).toContain('dvcSrlNo: is required');
  });

  it('refuses every other call from a device that was not initialised, or another serial on the branch', async () => {
    for (const path of ['/code/selectCodes', '/itemClass/selectItemsClass', '/items/selectItems', '/items/saveItem', '/items/updateItem', '/trnsSales/saveSales', '/stock/saveStockItems', '/stockMaster/saveStockMaster']) {
      expect((await call(path, { lastReqDt: '20200101000000' })).resultCd).toBe('901');
    }
    await call('/initializer/selectInitInfo', {});
    const other = await call('/code/selectCodes', { lastReqDt: '20200101000000' }, { ...DEVICE, dvcSrlNo: 'ANOTHER' });
    expect(other.resultCd).toBe('901');
  });

  it('only lets the devices ZRA issued initialise when a list is given, and keeps start-up devices across resets', async () => {
    const strict = await startVsdcSimulator({ allowedDevices: [DEVICE], devices: [{ ...DEVICE, bhfId: '001' }] });
    try {
      const post = async (body: object) =>
        (await (await fetch(`${strict.url}/initializer/selectInitInfo`, { method: 'POST', body: JSON.stringify(body) })).json()) as { resultCd: string };
      expect((await post({ ...DEVICE, dvcSrlNo: 'STRANGER' })).resultCd).toBe('901');
      expect((await post(DEVICE)).resultCd).toBe('000');
      strict.control.reset();
      expect(strict.state().devices.map((d) => d.bhfId)).toEqual(['001']);
    } finally {
      await strict.close();
    }
  });
});

describe('code tables and item classes', () => {
  beforeEach(() => call('/initializer/selectInitInfo', {}));

  it('serves the code tables with the VAT rates in force, then 001 once synced', async () => {
    const r = await call('/code/selectCodes', { lastReqDt: '20180101000000' });
    expect(r.resultCd).toBe('000');
    const classes = r.data.clsList;
    const taxTypes = classes.find((c) => c.cdCls === '04')!.dtlList;
    expect(taxTypes.find((c) => c.cd === 'A')?.userDfnCd1).toBe('16');
    expect(taxTypes.find((c) => c.cd === 'C3')?.userDfnCd1).toBe('0');
    expect(classes.find((c) => c.cdCls === CODE_CLASSES.paymentType.cdCls)!.dtlList.map((c) => c.cd)).toEqual(['01', '02', '03', '04', '05', '06', '07']);
    expect(classes.find((c) => c.cdCls === '32')!.dtlList.map((c) => c.cd)).toEqual(['1', '2', '3', '4']);
    expect((await call('/code/selectCodes', { lastReqDt: r.resultDt })).resultCd).toBe('001');
    expect((await call('/code/selectCodes', { lastReqDt: '2018-01-01' })).resultMsg).toContain('lastReqDt: must be a date and time written yyyyMMddHHmmss');
  });

  it('pages the item classes: the next page is asked with the last useUpdDt', async () => {
    const seen: string[] = [];
    let lastReqDt = '20180101000000';
    for (let page = 0; page < 10; page++) {
      const r = await call('/itemClass/selectItemsClass', { lastReqDt });
      if (r.resultCd === '001') break;
      const list = r.data.itemClsList;
      expect(list.length).toBeLessThanOrEqual(5);
      seen.push(...list.map((c) => c.itemClsCd));
      lastReqDt = list[list.length - 1]!.useUpdDt;
    }
    expect(seen).toEqual(ITEM_CLASSES.map(([cd]) => cd));
  });
});

describe('items', () => {
  beforeEach(() => call('/initializer/selectInitInfo', {}));
  const base = { ...ITEMS.amoxicillin, itemTyCd: '2', orgnNatCd: 'IN', useYn: 'Y', regrId: 'umi', regrNm: 'Umi Health' };

  it('registers, refuses a second registration, updates, and lists what changed since a date', async () => {
    const before = (await call('/items/selectItems', { lastReqDt: '20180101000000' }));
    expect(before.resultCd).toBe('001');
    expect((await call('/items/saveItem', base)).resultCd).toBe('000');
    expect((await call('/items/saveItem', base)).resultCd).toBe('994');
    const listed = await call('/items/selectItems', { lastReqDt: '20180101000000' });
    expect(listed.data.itemList).toEqual([expect.objectContaining({ itemCd: base.itemCd, vatCatCd: 'A', dftPrc: 100, tpin: DEVICE.tpin })]);
    const updated = await call('/items/updateItem', { ...base, vatCatCd: 'C3', dftPrc: 95, modrId: 'umi', modrNm: 'Umi Health' });
    expect(updated.resultCd).toBe('000');
    expect(sim.state().items[0]).toMatchObject({ updates: 1, item: { vatCatCd: 'C3', dftPrc: 95 } });
    expect((await call('/items/selectItems', { lastReqDt: '29991231000000' })).resultCd).toBe('001');
  });

  it('validates the item field by field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ itemClsCd: '99999999' }, 'itemClsCd: 99999999 is not an item class'],
      [{ pkgUnitCd: 'XX' }, 'pkgUnitCd: not a code of class 17 (Packing Unit)'],
      [{ qtyUnitCd: 'BOX' }, 'qtyUnitCd: not a code of class 10 (Quantity Unit)'],
      [{ vatCatCd: 'Z' }, 'vatCatCd: not a VAT category'],
      [{ orgnNatCd: 'XX' }, 'orgnNatCd: not a code of class 05 (Country)'],
      [{ itemTyCd: '9' }, 'itemTyCd: not a code of class 24 (Item Type)'],
      [{ dftPrc: -1 }, 'dftPrc: must not be negative'],
      [{ dftPrc: '100' }, 'dftPrc: Invalid input: expected number'],
      [{ useYn: 'yes' }, 'useYn:'],
      [{ regrId: undefined }, 'regrId:'],
      [{ itemNm: '' }, 'itemNm: is required'],
    ];
    for (const [change, message] of cases) {
      const r = await call('/items/saveItem', { ...base, ...change });
      expect({ change, resultCd: r.resultCd, resultMsg: r.resultMsg }).toEqual({ change, resultCd: '910', resultMsg: expect.stringContaining(message) });
    }
    expect(sim.state().items).toHaveLength(0);
    const unknown = await call('/items/updateItem', { ...base, modrId: 'umi', modrNm: 'Umi' });
    expect(unknown).toMatchObject({ resultCd: '910', resultMsg: expect.stringContaining('is not registered on this branch') });
    await call('/items/saveItem', base);
    expect((await call('/items/updateItem', base)).resultMsg).toContain('modrId:');
  });
});

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

describe('stock', () => {
  beforeEach(() => init());
  const movement = {
    sarNo: 1,
    orgSarNo: 0,
    regTyCd: 'A',
    sarTyCd: '11',
    ocrnDt: '20260315',
    totItemCnt: 1,
    totTaxblAmt: 172.4138,
    totTaxAmt: 27.5862,
    totAmt: 200,
    regrId: 'umi',
    regrNm: 'Umi Health',
    itemList: [{ itemSeq: 1, ...pick(ITEMS.amoxicillin), pkg: 2, qty: 2, prc: 100, splyAmt: 200, totDcAmt: 0, taxblAmt: 172.4138, taxAmt: 27.5862, totAmt: 200 }],
  };

  it('takes stock movements, idempotent by sarNo, and checks their lines and totals', async () => {
    expect((await call('/stock/saveStockItems', movement)).resultCd).toBe('000');
    expect((await call('/stock/saveStockItems', movement)).resultCd).toBe('000');
    expect(sim.stockMovements).toHaveLength(1);
    expect(sim.stockMovements[0]!.duplicates).toBe(1);
    expect((await call('/stock/saveStockItems', { ...movement, sarTyCd: '02' })).resultCd).toBe('994');
    const wrong = await call('/stock/saveStockItems', { ...movement, sarNo: 2, totAmt: 150, itemList: [{ ...movement.itemList[0], itemCd: 'NOPE' }] });
    expect(wrong.resultMsg).toContain('itemList[0].itemCd: NOPE is not registered');
    expect(wrong.resultMsg).toContain('totAmt: the lines add up to 200.0000, got 150');
    expect((await call('/stock/saveStockItems', { ...movement, sarNo: 2, sarTyCd: '99' })).resultMsg).toContain('sarTyCd: not a code of class 12');
    expect((await call('/stock/saveStockItems', { ...movement, sarNo: 2, ocrnDt: '20260230' })).resultMsg).toContain('ocrnDt: must be a date written yyyyMMdd');
  });

  it('takes the stock on hand per item', async () => {
    const r = await call('/stockMaster/saveStockMaster', { regrId: 'umi', regrNm: 'Umi', modrId: 'umi', modrNm: 'Umi', stockItemList: [{ itemCd: ITEMS.amoxicillin.itemCd, rsdQty: 48 }] });
    expect(r.resultCd).toBe('000');
    expect(sim.state().stockLevels).toEqual([expect.objectContaining({ itemCd: ITEMS.amoxicillin.itemCd, rsdQty: 48 })]);
    const bad = await call('/stockMaster/saveStockMaster', { regrId: 'umi', regrNm: 'Umi', stockItemList: [{ itemCd: 'NOPE', rsdQty: 1 }, { itemCd: ITEMS.bandage.itemCd, rsdQty: -1 }] });
    expect(bad.resultMsg).toContain('stockItemList[1].rsdQty: must not be negative');
    const unregistered = await call('/stockMaster/saveStockMaster', { regrId: 'umi', regrNm: 'Umi', stockItemList: [{ itemCd: 'NOPE', rsdQty: 1 }] });
    expect(unregistered.resultMsg).toContain('stockItemList[0].itemCd: NOPE is not registered');
  });
});

describe('HTTP edges', () => {
  it('answers 911 without a JSON body, 405 to other methods and 999 to unknown endpoints', async () => {
    const empty = await fetch(`${sim.url}/trnsSales/saveSales`, { method: 'POST', body: 'not json' });
    expect(await empty.json()).toMatchObject({ resultCd: '911' });
    expect((await fetch(`${sim.url}/trnsSales/saveSales`)).status).toBe(405);
    expect(await (await fetch(`${sim.url}/trnsSales/selectSales`, { method: 'POST', body: '{}' })).json()).toMatchObject({ resultCd: '999' });
  });

  it('serves another base path when configured', async () => {
    const other = await startVsdcSimulator({ basePath: '/vsdc/' });
    try {
      expect(other.url).toMatch(/\/vsdc$/);
      const r = await fetch(`${other.url}/initializer/selectInitInfo`, { method: 'POST', body: JSON.stringify(DEVICE) });
      expect(await r.json()).toMatchObject({ resultCd: '000' });
    } finally {
      await other.close();
    }
  });
});
