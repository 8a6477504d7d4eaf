/**
 * The VSDC's data: result codes, standard code tables, item classes and VAT categories. Kept as
 * data (as the guide asks: ZRA changes them) and served by `/code/selectCodes` and
 * `/itemClass/selectItemsClass`, so a client reads them from the VSDC instead of hard-coding them.
 * Code class numbers follow the VSDC family (ZRA, RRA EBM and KRA eTIMS share it); names and
 * descriptions are abridged; the item classes are a small UNSPSC-shaped sample, not ZRA's list.
 */

/** Result codes: HTTP is always 200, the outcome is `resultCd`. */
export const RESULT = {
  ok: { resultCd: '000', resultMsg: 'It is succeeded' },
  noSearchResult: { resultCd: '001', resultMsg: 'There is no search result' },
  invalidDevice: { resultCd: '901', resultMsg: 'It is not valid device' },
  deviceInstalled: { resultCd: '902', resultMsg: 'This device is installed' },
  parameterError: { resultCd: '910', resultMsg: 'Request parameter error' },
  noRequestText: { resultCd: '911', resultMsg: 'There is no request full text' },
  overlapped: { resultCd: '994', resultMsg: 'Overlapped data' },
  unknown: { resultCd: '999', resultMsg: 'Unknown error' },
} as const;

export type VatCategory = 'A' | 'B' | 'C1' | 'C2' | 'C3' | 'D' | 'E' | 'RVAT' | 'TOT';

/**
 * VAT categories: the rate (percent, VAT-inclusive prices) and the suffix of the invoice's
 * per-category fields (`taxblAmtC1`, `taxRtRvat`, ...). B (MTV) is taxed here like A on the price
 * charged; the real VSDC taxes it on the recommended retail price, which pharmacies do not use.
 */
export const VAT_CATEGORIES: Record<VatCategory, { rate: number; suffix: string; name: string }> = {
  A: { rate: 16, suffix: 'A', name: 'Standard rated 16%' },
  B: { rate: 16, suffix: 'B', name: 'Minimum taxable value (MTV)' },
  C1: { rate: 0, suffix: 'C1', name: 'Exports 0%' },
  C2: { rate: 0, suffix: 'C2', name: 'Zero-rating local purchase order 0%' },
  C3: { rate: 0, suffix: 'C3', name: 'Zero-rated by nature 0%' },
  D: { rate: 0, suffix: 'D', name: 'Exempt' },
  E: { rate: 0, suffix: 'E', name: 'Disbursement' },
  RVAT: { rate: 16, suffix: 'Rvat', name: 'Reverse VAT' },
  TOT: { rate: 0, suffix: 'Tot', name: 'Turnover tax' },
};

/** Categories whose `taxblAmtX`, `taxRtX` and `taxAmtX` every invoice carries, used or not. */
export const HEADER_CATEGORIES: readonly VatCategory[] = ['A', 'B', 'C1', 'C2', 'C3', 'D'];

export interface CodeClass {
  cdCls: string;
  cdClsNm: string;
  codes: readonly (readonly [cd: string, cdNm: string, userDfnCd1?: string])[];
}

/** Served with one code per VAT category and its rate in `userDfnCd1`, built from the rates in force. */
export const TAX_TYPE_CLASS = { cdCls: '04', cdClsNm: 'Taxation Type' } as const;

export const CODE_CLASSES = {
  country: {
    cdCls: '05',
    cdClsNm: 'Country',
    codes: [['ZM', 'Zambia'], ['ZA', 'South Africa'], ['ZW', 'Zimbabwe'], ['KE', 'Kenya'], ['TZ', 'Tanzania'], ['IN', 'India'], ['CN', 'China'], ['DE', 'Germany'], ['GB', 'United Kingdom'], ['US', 'United States'], ['CH', 'Switzerland'], ['FR', 'France']],
  },
  paymentType: {
    cdCls: '07',
    cdClsNm: 'Payment Type',
    codes: [['01', 'Cash'], ['02', 'Credit'], ['03', 'Cash/Credit'], ['04', 'Bank check'], ['05', 'Debit & credit card'], ['06', 'Mobile money'], ['07', 'Other']],
  },
  quantityUnit: {
    cdCls: '10',
    cdClsNm: 'Quantity Unit',
    codes: [['U', 'Pieces/item [number]'], ['KGM', 'Kilogram'], ['GRM', 'Gram'], ['LTR', 'Litre'], ['MLT', 'Millilitre']],
  },
  saleStatus: {
    cdCls: '11',
    cdClsNm: 'Sale Status',
    codes: [['01', 'Wait for approval'], ['02', 'Approved'], ['03', 'Cancel requested'], ['04', 'Canceled'], ['05', 'Refunded'], ['06', 'Transferred']],
  },
  stockIoType: {
    cdCls: '12',
    cdClsNm: 'Stock I/O Type',
    codes: [['01', 'Import'], ['02', 'Purchase'], ['03', 'Return'], ['04', 'Stock movement'], ['05', 'Processing'], ['06', 'Adjustment'], ['11', 'Sale'], ['12', 'Return'], ['13', 'Stock movement'], ['14', 'Processing'], ['15', 'Discarding'], ['16', 'Adjustment']],
  },
  salesType: { cdCls: '14', cdClsNm: 'Transaction Type', codes: [['N', 'Normal'], ['C', 'Copy'], ['P', 'Proforma'], ['T', 'Training']] },
  packagingUnit: {
    cdCls: '17',
    cdClsNm: 'Packing Unit',
    codes: [['AM', 'Ampoule'], ['BG', 'Bag'], ['BO', 'Bottle'], ['BX', 'Box'], ['CT', 'Carton'], ['JR', 'Jar'], ['PA', 'Packet'], ['SH', 'Sachet'], ['TU', 'Tube'], ['VI', 'Vial'], ['NT', 'Net']],
  },
  itemType: { cdCls: '24', cdClsNm: 'Item Type', codes: [['1', 'Raw material'], ['2', 'Finished product'], ['3', 'Service']] },
  creditNoteReason: {
    cdCls: '32',
    cdClsNm: 'Credit Note Reason',
    codes: [['1', 'Wrong product(s)'], ['2', 'Wrong price'], ['3', 'Damaged goods'], ['4', 'Wrong customer invoiced']],
  },
  currency: { cdCls: '33', cdClsNm: 'Currency', codes: [['ZMW', 'Zambian kwacha'], ['USD', 'US dollar']] },
  receiptType: { cdCls: '37', cdClsNm: 'Sales Receipt Type', codes: [['S', 'Sale'], ['R', 'Credit note'], ['D', 'Debit note']] },
} satisfies Record<string, CodeClass>;

export type CodeClassName = keyof typeof CODE_CLASSES;

/** [itemClsCd, itemClsNm, itemClsLvl, taxTyCd]: a UNSPSC-shaped sample for a pharmacy. */
export const ITEM_CLASSES: readonly (readonly [string, string, number, VatCategory | null])[] = [
  ['51000000', 'Drugs and pharmaceutical products', 1, null],
  ['51100000', 'Anti infective drugs', 2, 'C3'],
  ['51101500', 'Antibiotics', 3, 'C3'],
  ['51140000', 'Central nervous system drugs', 2, 'C3'],
  ['51142100', 'Non narcotic analgesics and antipyretics', 3, 'C3'],
  ['51190000', 'Drugs affecting water and electrolytes', 2, 'C3'],
  ['51191900', 'Nutritional supplements and vitamins', 3, 'A'],
  ['42000000', 'Medical equipment and accessories and supplies', 1, null],
  ['42311500', 'Bandages and dressings and related products', 3, 'C3'],
  ['42181500', 'Diagnostic assessment and exam products', 3, 'C3'],
  ['53130000', 'Toiletries', 2, 'A'],
  ['53131600', 'Bath and body', 3, 'A'],
  ['50202300', 'Non alcoholic beverages', 3, 'A'],
];
