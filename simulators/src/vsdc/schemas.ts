import Decimal from 'decimal.js';
import { z } from 'zod';
import { isCompactDate, isCompactDateTime } from '../core/dates';
import { CODE_CLASSES, HEADER_CATEGORIES, VAT_CATEGORIES, type CodeClassName, type VatCategory } from './codes';

/**
 * Request shapes of the VSDC, field by field. Objects are loose: real payloads carry many more
 * fields (insurance, excise, levies) that the simulator accepts and records without judging.
 * Sums, VAT and registrations are checked afterwards (sales.ts), against the device's state.
 */

const maxDecimals = (places: number) => (n: number) => new Decimal(n).decimalPlaces() <= places;
/** Amounts are JSON numbers with at most 4 decimals (100.00 at 16% is 86.2069 + 13.7931). */
export const amount = z.number().finite().min(0, 'must not be negative').refine(maxDecimals(4), 'at most 4 decimal places');
const quantity = z.number().finite().positive('must be more than 0').refine(maxDecimals(4), 'at most 4 decimal places');
const text = (max: number) => z.string().trim().min(1, 'is required').max(max, `at most ${max} characters`);
/** Clients send absent optional fields as null or "", or leave them out. */
const optional = <T extends z.ZodType>(schema: T) => z.union([z.literal(''), z.null(), schema]).optional();

export function code(cls: CodeClassName) {
  const { cdCls, cdClsNm, codes } = CODE_CLASSES[cls];
  const known = new Set(codes.map(([cd]) => cd));
  return z.string().refine((v) => known.has(v), `not a code of class ${cdCls} (${cdClsNm}); see /code/selectCodes`);
}
export const vatCategory = z
  .string()
  .refine((v): v is VatCategory => v in VAT_CATEGORIES, `not a VAT category (${Object.keys(VAT_CATEGORIES).join(', ')})`);
const compactDate = z.string().refine(isCompactDate, 'must be a date written yyyyMMdd');
const compactDateTime = z.string().refine(isCompactDateTime, 'must be a date and time written yyyyMMddHHmmss');

/** Who is calling: the taxpayer, the ZRA branch and the VSDC device serial, on every call. */
export const identitySchema = z.looseObject({
  tpin: z.string().regex(/^\d{10}$/, 'must be the 10-digit TPIN'),
  bhfId: z.string().regex(/^\d{3}$/, 'must be the 3-digit ZRA branch id, e.g. "000"'),
  dvcSrlNo: text(100),
});
export type Identity = z.infer<typeof identitySchema>;

export const lastRequestSchema = identitySchema.extend({ lastReqDt: compactDateTime });

const itemFields = {
  itemCd: text(100),
  itemClsCd: z.string().regex(/^\d{8,10}$/, 'must be an item class code (see /itemClass/selectItemsClass)'),
  itemTyCd: code('itemType'),
  itemNm: text(200),
  itemStdNm: optional(z.string().max(200)),
  orgnNatCd: code('country'),
  pkgUnitCd: code('packagingUnit'),
  qtyUnitCd: code('quantityUnit'),
  vatCatCd: vatCategory,
  btchNo: optional(z.string().max(100)),
  bcd: optional(z.string().max(100)),
  dftPrc: amount,
  addInfo: optional(z.string().max(500)),
  sftyQty: optional(z.number().min(0)),
  useYn: z.enum(['Y', 'N']),
};
export const saveItemSchema = identitySchema.extend({ ...itemFields, regrId: text(20), regrNm: text(60), modrId: optional(text(20)), modrNm: optional(text(60)) });
export const updateItemSchema = identitySchema.extend({ ...itemFields, regrId: optional(text(20)), regrNm: optional(text(60)), modrId: text(20), modrNm: text(60) });
export type ItemRequest = z.infer<typeof saveItemSchema>;

const saleLineSchema = z.looseObject({
  itemSeq: z.number().int().positive(),
  itemCd: text(100),
  itemClsCd: text(10),
  itemNm: text(200),
  bcd: optional(z.string().max(100)),
  pkgUnitCd: code('packagingUnit'),
  pkg: optional(z.number().min(0)),
  qtyUnitCd: code('quantityUnit'),
  qty: quantity,
  prc: amount,
  splyAmt: optional(amount),
  dcRt: optional(z.number().min(0).max(100)),
  dcAmt: optional(amount),
  vatCatCd: vatCategory,
  vatTaxblAmt: amount,
  vatAmt: amount,
  totAmt: amount,
});
export type SaleLine = z.infer<typeof saleLineSchema>;

const rate = z.number().min(0).max(100);
/** `taxblAmtX`, `taxRtX`, `taxAmtX` for every category: required for the header ones, optional otherwise. */
const perCategoryFields = Object.fromEntries(
  (Object.keys(VAT_CATEGORIES) as VatCategory[]).flatMap((cat) => {
    const s = VAT_CATEGORIES[cat].suffix;
    const required = HEADER_CATEGORIES.includes(cat);
    return [
      [`taxblAmt${s}`, required ? amount : amount.optional()],
      [`taxRt${s}`, required ? rate : rate.optional()],
      [`taxAmt${s}`, required ? amount : amount.optional()],
    ];
  }),
) as Record<string, z.ZodType<number | undefined>>;

export const saleSchema = identitySchema.extend({
  cisInvcNo: text(50),
  orgInvcNo: z.number().int().min(0),
  custTpin: optional(z.string().regex(/^\d{10}$/, 'must be a 10-digit TPIN')),
  custNm: optional(z.string().max(100)),
  salesTyCd: code('salesType'),
  rcptTyCd: code('receiptType'),
  pmtTyCd: code('paymentType'),
  salesSttsCd: code('saleStatus'),
  cfmDt: compactDateTime,
  salesDt: compactDate,
  stockRlsDt: optional(compactDateTime),
  cnclReqDt: optional(compactDateTime),
  cnclDt: optional(compactDateTime),
  rfdDt: optional(compactDateTime),
  rfdRsnCd: optional(code('creditNoteReason')),
  totItemCnt: z.number().int().positive(),
  ...perCategoryFields,
  totTaxblAmt: amount,
  totTaxAmt: amount,
  totAmt: amount,
  currencyTyCd: code('currency'),
  exchangeRt: optional(z.union([z.string(), z.number()])),
  prchrAcptcYn: optional(z.enum(['Y', 'N'])),
  remark: optional(z.string().max(400)),
  regrId: text(20),
  regrNm: text(60),
  modrId: optional(text(20)),
  modrNm: optional(text(60)),
  itemList: z.array(saleLineSchema).min(1, 'an invoice has at least one line'),
});
/** The parsed sale; the per-category fields are read by name (`taxblAmtA` ...). */
export type Sale = z.infer<typeof saleSchema> & Record<string, unknown>;

const stockLineSchema = z.looseObject({
  itemSeq: z.number().int().positive(),
  itemCd: text(100),
  itemClsCd: text(10),
  itemNm: text(200),
  pkgUnitCd: code('packagingUnit'),
  pkg: optional(z.number().min(0)),
  qtyUnitCd: code('quantityUnit'),
  qty: quantity,
  itemExprDt: optional(compactDate),
  prc: amount,
  splyAmt: amount,
  totDcAmt: optional(amount),
  taxblAmt: amount,
  vatCatCd: vatCategory,
  taxAmt: amount,
  totAmt: amount,
});

export const stockItemsSchema = identitySchema.extend({
  sarNo: z.number().int().positive(),
  orgSarNo: z.number().int().min(0),
  regTyCd: z.enum(['M', 'A']),
  custTpin: optional(z.string().regex(/^\d{10}$/, 'must be a 10-digit TPIN')),
  custNm: optional(z.string().max(100)),
  custBhfId: optional(z.string().regex(/^\d{3}$/, 'must be a 3-digit branch id')),
  sarTyCd: code('stockIoType'),
  ocrnDt: compactDate,
  totItemCnt: z.number().int().positive(),
  totTaxblAmt: amount,
  totTaxAmt: amount,
  totAmt: amount,
  remark: optional(z.string().max(400)),
  regrId: text(20),
  regrNm: text(60),
  modrId: optional(text(20)),
  modrNm: optional(text(60)),
  itemList: z.array(stockLineSchema).min(1, 'a stock movement has at least one line'),
});
export type StockItems = z.infer<typeof stockItemsSchema>;

export const stockMasterSchema = identitySchema.extend({
  regrId: text(20),
  regrNm: text(60),
  modrId: optional(text(20)),
  modrNm: optional(text(60)),
  stockItemList: z
    .array(z.looseObject({ itemCd: text(100), rsdQty: z.number().finite().min(0, 'must not be negative').refine(maxDecimals(4), 'at most 4 decimal places') }))
    .min(1, 'at least one item'),
});
export type StockMaster = z.infer<typeof stockMasterSchema>;

/** "field: problem" for each issue, the way the VSDC's resultMsg names them. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(request)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}
