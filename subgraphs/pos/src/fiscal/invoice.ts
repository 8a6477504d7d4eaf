import Decimal from 'decimal.js';
import type { PaymentMethod, TaxCategory } from '@umi/supply';
import { CATEGORY_SUFFIX, HEADER_CATEGORY_RATES, PAYMENT_TYPE, REGISTRANT, VSDC_TIME_ZONE } from './codes';

/** The VSDC identity every call carries. */
export interface DeviceIdentity {
  tpin: string;
  bhfId: string;
  dvcSrlNo: string;
}

/** A product as the VSDC registers it. */
export interface FiscalItem {
  itemCode: string;
  itemClassCode: string;
  packagingUnit: string;
  quantityUnit: string;
  originCountry: string;
  name: string;
  vatCategory: string;
  active: boolean;
  defaultPrice: string;
}

/** One line of an invoice or credit note, in our terms. */
export interface FiscalLine {
  item: FiscalItem;
  quantity: number;
  /** Shelf price of one unit as sold (VAT-inclusive when `pricesIncludeTax`). */
  unitPrice: string;
  /** VAT rate as a fraction ("0.1600"). */
  taxRate: string;
  /** What the customer pays for the line, VAT included, after its discount. */
  amount: string;
  /** The VAT contained in `amount` (the sale's per-line VAT, rounded per line). */
  taxAmount: string;
}

export interface FiscalInvoice {
  device: DeviceIdentity;
  /** cisInvcNo: our invoice number. */
  invoiceNumber: string;
  type: 'S' | 'R';
  /** R only: the original sale's receipt number. */
  originalReceiptNumber?: number;
  /** R only: class 32 reason code. */
  reasonCode?: string;
  paymentCode: string;
  /** When the sale (or refund) was confirmed. */
  at: Date;
  pricesIncludeTax: boolean;
  lines: FiscalLine[];
}

const D = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_UP });
/** Amounts go out as JSON numbers with at most 4 decimals. */
const num = (d: Decimal.Value) => Number(new D(d).toFixed(4));

const compactParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: VSDC_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
/** `yyyyMMddHHmmss` in the VSDC's (Zambian) time. */
export function vsdcDateTime(at: Date): string {
  const p = Object.fromEntries(compactParts.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}${p.month}${p.day}${p.hour}${p.minute}${p.second}`;
}

/**
 * The one payment type code of a sale (the VSDC takes one per invoice): the method that paid the
 * largest share; on a tie, the first of the tied payments as the cashier entered them. A sale
 * paid 60 by mobile money and 40 in cash is 06; 50/50 cash then card is 01.
 */
export function paymentTypeOf(payments: { method: PaymentMethod; amount: string }[], fallback: PaymentMethod): string {
  let best: { method: PaymentMethod; amount: Decimal } | null = null;
  for (const p of payments) {
    const amount = new D(p.amount);
    if (!best || amount.gt(best.amount)) best = { method: p.method, amount };
  }
  return PAYMENT_TYPE[best?.method ?? fallback];
}

/** A line's VAT-inclusive unit price, to 4 decimals: the VSDC's prices always include VAT. */
function inclusivePrice(line: FiscalLine, pricesIncludeTax: boolean): Decimal {
  const price = new D(line.unitPrice);
  return pricesIncludeTax ? price : new D(price.times(new D(1).plus(line.taxRate)).toFixed(4));
}

/**
 * The `/trnsSales/saveSales` body of a sale (S) or credit note (R). Each line's VAT is the sale's
 * own per-line VAT (rounded per line to the ngwee, as the till printed it); each category's header
 * amounts are the sums of its lines; categories no line uses are sent as zeros at their rate.
 * The difference between quantity x price and what the line came to is its discount (`dcAmt`).
 */
export function saveSalesPayload(inv: FiscalInvoice): Record<string, unknown> {
  const sums = new Map<string, { taxable: Decimal; vat: Decimal; rate: number }>();
  let totTaxable = new D(0);
  let totVat = new D(0);
  let total = new D(0);
  const itemList = inv.lines.map((line, i) => {
    const prc = inclusivePrice(line, inv.pricesIncludeTax);
    const gross = prc.times(line.quantity);
    const totAmt = new D(line.amount);
    const vatAmt = new D(line.taxAmount);
    const taxable = totAmt.minus(vatAmt);
    const discount = D.max(gross.minus(totAmt), 0);
    const cat = line.item.vatCategory;
    const s = sums.get(cat) ?? { taxable: new D(0), vat: new D(0), rate: Number(new D(line.taxRate).times(100).toFixed(4)) };
    sums.set(cat, { ...s, taxable: s.taxable.plus(taxable), vat: s.vat.plus(vatAmt) });
    totTaxable = totTaxable.plus(taxable);
    totVat = totVat.plus(vatAmt);
    total = total.plus(totAmt);
    return {
      itemSeq: i + 1,
      itemCd: line.item.itemCode,
      itemClsCd: line.item.itemClassCode,
      itemNm: line.item.name.slice(0, 200),
      bcd: null,
      pkgUnitCd: line.item.packagingUnit,
      pkg: line.quantity,
      qtyUnitCd: line.item.quantityUnit,
      qty: line.quantity,
      prc: num(prc),
      splyAmt: num(gross),
      dcRt: gross.isZero() ? 0 : num(discount.div(gross).times(100)),
      dcAmt: num(discount),
      vatCatCd: cat,
      vatTaxblAmt: num(taxable),
      vatAmt: num(vatAmt),
      totAmt: num(totAmt),
    };
  });
  const perCategory: Record<string, number> = {};
  const categories = new Set([...Object.keys(HEADER_CATEGORY_RATES), ...sums.keys()]);
  for (const cat of categories) {
    const sfx = CATEGORY_SUFFIX[cat] ?? cat;
    const s = sums.get(cat);
    perCategory[`taxblAmt${sfx}`] = num(s?.taxable ?? 0);
    perCategory[`taxRt${sfx}`] = s?.rate ?? HEADER_CATEGORY_RATES[cat] ?? 0;
    perCategory[`taxAmt${sfx}`] = num(s?.vat ?? 0);
  }
  const when = vsdcDateTime(inv.at);
  return {
    ...inv.device,
    cisInvcNo: inv.invoiceNumber,
    orgInvcNo: inv.type === 'R' ? inv.originalReceiptNumber : 0,
    custTpin: null,
    custNm: null,
    salesTyCd: 'N',
    rcptTyCd: inv.type,
    pmtTyCd: inv.paymentCode,
    salesSttsCd: '02',
    cfmDt: when,
    salesDt: when.slice(0, 8),
    stockRlsDt: when,
    cnclReqDt: null,
    cnclDt: null,
    rfdDt: inv.type === 'R' ? when : null,
    rfdRsnCd: inv.type === 'R' ? inv.reasonCode : null,
    totItemCnt: itemList.length,
    ...perCategory,
    totTaxblAmt: num(totTaxable),
    totTaxAmt: num(totVat),
    totAmt: num(total),
    prchrAcptcYn: 'N',
    remark: null,
    currencyTyCd: 'ZMW',
    regrId: REGISTRANT.id,
    regrNm: REGISTRANT.name,
    modrId: REGISTRANT.id,
    modrNm: REGISTRANT.name,
    itemList,
  };
}

/** The `/items/saveItem` or `/items/updateItem` body of a product. */
export function itemPayload(device: DeviceIdentity, item: FiscalItem, update: boolean): Record<string, unknown> {
  const who = update ? { modrId: REGISTRANT.id, modrNm: REGISTRANT.name } : { regrId: REGISTRANT.id, regrNm: REGISTRANT.name };
  return {
    ...device,
    itemCd: item.itemCode,
    itemClsCd: item.itemClassCode,
    itemTyCd: '2',
    itemNm: item.name.slice(0, 200),
    orgnNatCd: item.originCountry,
    pkgUnitCd: item.packagingUnit,
    qtyUnitCd: item.quantityUnit,
    vatCatCd: item.vatCategory,
    dftPrc: num(item.defaultPrice),
    useYn: item.active ? 'Y' : 'N',
    ...who,
  };
}

/** The fields the VSDC checks invoice lines against: a change of any of them needs updateItem. */
export function itemFingerprint(item: FiscalItem): string {
  return JSON.stringify([item.itemCode, item.itemClassCode, item.name, item.packagingUnit, item.quantityUnit, item.originCountry, item.vatCategory, item.active]);
}

/** Maps our tax category to ZRA's with the tenant's mapping (defaults: STANDARD A, ZERO_RATED C3, EXEMPT D). */
export function vatCategoryOf(category: TaxCategory, mapping: Record<TaxCategory, string>): string {
  return mapping[category];
}
