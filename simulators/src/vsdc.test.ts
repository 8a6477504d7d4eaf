import { CODE_CLASSES, startVsdcSimulator, type VsdcSimulator } from './index';
import { ITEM_CLASSES } from './vsdc/codes';
import { DEVICE, ITEMS, pick, vsdcClient } from './vsdc/test-fixtures';

let sim: VsdcSimulator;
beforeAll(async () => {
  sim = await startVsdcSimulator({ itemClassPageSize: 5 });
});
afterAll(() => sim.close());
beforeEach(() => sim.control.reset());
const { call, init } = vsdcClient(() => sim);

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
