import type { FiscalReceipt, VsdcSimulator } from '../index';

/** Fixtures of the VSDC tests: a device, three items (A, C3, D) and a valid sale of them. */
export const DEVICE = { tpin: '1000000001', bhfId: '000', dvcSrlNo: 'SIM-VSDC-0001' };

export interface Answer {
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

export const ITEMS = {
  amoxicillin: { itemCd: 'ZM2BXU0000001', itemClsCd: '51101500', itemNm: 'Amoxicillin 500 mg capsules x21', pkgUnitCd: 'BX', qtyUnitCd: 'U', vatCatCd: 'A', dftPrc: 100 },
  paracetamol: { itemCd: 'ZM2BXU0000002', itemClsCd: '51142100', itemNm: 'Paracetamol 500 mg x100', pkgUnitCd: 'BX', qtyUnitCd: 'U', vatCatCd: 'C3', dftPrc: 45.5 },
  bandage: { itemCd: 'ZM2PAU0000003', itemClsCd: '42311500', itemNm: 'Crepe bandage 10 cm', pkgUnitCd: 'PA', qtyUnitCd: 'U', vatCatCd: 'D', dftPrc: 12.25 },
};

/** Calls a simulator's endpoints as a device, expecting HTTP 200 (the VSDC's errors are result codes). */
export function vsdcClient(sim: () => VsdcSimulator) {
  async function call(path: string, body: unknown, device: object = DEVICE): Promise<Answer> {
    const res = await fetch(`${sim().url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...device, ...(body as object) }) });
    expect(res.status).toBe(200);
    return (await res.json()) as Answer;
  }
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
  return { call, register, init };
}

const zeroCategories = { taxblAmtB: 0, taxRtB: 16, taxAmtB: 0, taxblAmtC1: 0, taxRtC1: 0, taxAmtC1: 0, taxblAmtC2: 0, taxRtC2: 0, taxAmtC2: 0 };

/** One STANDARD (A), one ZERO_RATED (C3) and one EXEMPT (D) line, VAT-inclusive prices. */
export function sale(overrides: Record<string, unknown> = {}) {
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
export function pick(item: (typeof ITEMS)[keyof typeof ITEMS]) {
  const { itemCd, itemClsCd, itemNm, pkgUnitCd, qtyUnitCd, vatCatCd } = item;
  return { itemCd, itemClsCd, itemNm, pkgUnitCd, qtyUnitCd, vatCatCd };
}
/** The valid sale with one line changed. */
export function withLine(index: number, change: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  const s = sale(overrides);
  return { ...s, itemList: s.itemList.map((l, i) => (i === index ? { ...l, ...change } : l)) };
}
