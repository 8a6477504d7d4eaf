import Decimal from 'decimal.js';
import { RESULT, VAT_CATEGORIES, type VatCategory } from './codes';
import type { Sale, SaleLine } from './schemas';
import { signReceipt, type AcceptedInvoice, type Device, type FiscalReceipt, type VsdcState } from './state';

/** A VSDC answer before its `resultDt` is stamped. */
export interface VsdcAnswer {
  resultCd: string;
  resultMsg: string;
  data?: unknown;
}

export interface SalesContext {
  state: VsdcState;
  /** VAT rate per category, percent. */
  rates: Record<VatCategory, number>;
  /** How far an amount may be from the simulator's own computation (rounding), in kwacha. */
  tolerance: Decimal;
  /** The VSDC's local time, `yyyyMMddHHmmss`. */
  now(): string;
  /** Origin of the receipt links printed as QR codes. */
  receiptLinkBase: string;
}

const fmt = (d: Decimal.Value) => new Decimal(d).toFixed(4);

/**
 * `/trnsSales/saveSales`: checks the invoice against the device's registrations and the VAT rules,
 * and answers the receipt. Idempotent by `cisInvcNo` per device: the same invoice again gets the
 * same receipt (counted in `duplicates`), a different invoice under a used number gets 994.
 */
export function saveSales(ctx: SalesContext, device: Device, sale: Sale): VsdcAnswer {
  const previous = ctx.state.invoice(device, sale.cisInvcNo);
  if (previous) {
    if (previous.fingerprint !== fingerprint(sale)) {
      return { ...RESULT.overlapped, resultMsg: `${RESULT.overlapped.resultMsg}: cisInvcNo ${sale.cisInvcNo} was already used for a different invoice (receipt ${previous.receipt.rcptNo})` };
    }
    previous.duplicates += 1;
    return { ...RESULT.ok, data: previous.receipt };
  }
  const problems = checkSale(ctx, device, sale);
  if (problems.length > 0) return { resultCd: RESULT.parameterError.resultCd, resultMsg: problems.join('; ') };

  device.lastRcptNo += 1;
  const rcptNo = device.lastRcptNo;
  const { intrlData, rcptSign } = signReceipt(device, rcptNo, sale);
  const receipt: FiscalReceipt = {
    rcptNo,
    intrlData,
    rcptSign,
    vsdcRcptPbctDate: ctx.now(),
    sdcId: device.sdcId,
    mrcNo: device.mrcNo,
    qrCodeUrl: `${ctx.receiptLinkBase}/common/link/ebm/receipt/indexEbmReceiptData?Data=${device.tpin}${device.bhfId}${rcptSign}`,
  };
  const accepted: AcceptedInvoice = {
    tpin: device.tpin,
    bhfId: device.bhfId,
    dvcSrlNo: device.dvcSrlNo,
    cisInvcNo: sale.cisInvcNo,
    rcptTyCd: sale.rcptTyCd,
    orgInvcNo: sale.orgInvcNo,
    payload: sale,
    receipt,
    duplicates: 0,
    acceptedAt: receipt.vsdcRcptPbctDate,
    fingerprint: fingerprint(sale),
  };
  ctx.state.invoices.push(accepted);
  return { ...RESULT.ok, data: receipt };
}

function fingerprint(sale: Sale): string {
  return JSON.stringify([
    sale.rcptTyCd,
    sale.orgInvcNo,
    sale.totAmt,
    sale.totTaxAmt,
    sale.itemList.map((l) => [l.itemCd, l.qty, l.prc, l.totAmt, l.vatCatCd]),
  ]);
}

function checkSale(ctx: SalesContext, device: Device, sale: Sale): string[] {
  const problems: string[] = [];
  const near = (a: Decimal.Value, b: Decimal.Value) => new Decimal(a).minus(b).abs().lte(ctx.tolerance);

  if (sale.rcptTyCd === 'D') problems.push('rcptTyCd: D (debit note) is not simulated; S (sale) and R (credit note) are');
  if (sale.salesTyCd !== 'N') problems.push(`salesTyCd: ${sale.salesTyCd} is not a normal sale; the simulator fiscalises N only`);
  if (sale.currencyTyCd !== 'ZMW') problems.push(`currencyTyCd: ${sale.currencyTyCd} is not accepted; the simulator takes ZMW only`);
  if (sale.rcptTyCd === 'S') {
    if (sale.orgInvcNo !== 0) problems.push('orgInvcNo: must be 0 on a sale (S); only a credit note references an original');
    if (sale.rfdRsnCd) problems.push('rfdRsnCd: only a credit note (R) carries a reason code');
  }
  if (sale.rcptTyCd === 'R') {
    if (!sale.rfdRsnCd) problems.push('rfdRsnCd: a credit note (R) needs a reason code (see class 32 in /code/selectCodes)');
    if (sale.orgInvcNo === 0) problems.push("orgInvcNo: a credit note (R) must carry the original sale's receipt number");
    else if (!ctx.state.originalSale(device.tpin, device.bhfId, sale.orgInvcNo)) {
      problems.push(`orgInvcNo: no sale receipt ${sale.orgInvcNo} on branch ${device.bhfId} of TPIN ${device.tpin}`);
    }
  }
  if (sale.totItemCnt !== sale.itemList.length) problems.push(`totItemCnt: ${sale.totItemCnt} but itemList has ${sale.itemList.length} lines`);

  const items = ctx.state.branchItems(device.tpin, device.bhfId);
  const byCategory = new Map<VatCategory, { taxable: Decimal; vat: Decimal; firstLine: number }>();
  let linesTotal = new Decimal(0);
  sale.itemList.forEach((line, i) => {
    const at = `itemList[${i}]`;
    if (line.itemSeq !== i + 1) problems.push(`${at}.itemSeq: expected ${i + 1}, got ${line.itemSeq}`);
    problems.push(...checkRegistration(at, line, items.get(line.itemCd)?.item));
    problems.push(...checkLineAmounts(at, line, ctx.rates[line.vatCatCd as VatCategory], near));
    const cat = line.vatCatCd as VatCategory;
    const sums = byCategory.get(cat) ?? { taxable: new Decimal(0), vat: new Decimal(0), firstLine: i };
    byCategory.set(cat, { taxable: sums.taxable.plus(line.vatTaxblAmt), vat: sums.vat.plus(line.vatAmt), firstLine: sums.firstLine });
    linesTotal = linesTotal.plus(line.totAmt);
  });

  let taxable = new Decimal(0);
  let vat = new Decimal(0);
  for (const cat of Object.keys(VAT_CATEGORIES) as VatCategory[]) {
    const s = VAT_CATEGORIES[cat].suffix;
    const sums = byCategory.get(cat) ?? { taxable: new Decimal(0), vat: new Decimal(0), firstLine: -1 };
    taxable = taxable.plus(sums.taxable);
    vat = vat.plus(sums.vat);
    const [headerTaxable, headerRate, headerVat] = [sale[`taxblAmt${s}`], sale[`taxRt${s}`], sale[`taxAmt${s}`]] as (number | undefined)[];
    if (headerTaxable === undefined || headerRate === undefined || headerVat === undefined) {
      if (sums.firstLine >= 0) problems.push(`taxblAmt${s}, taxRt${s}, taxAmt${s}: required, itemList[${sums.firstLine}] is in category ${cat}`);
      continue;
    }
    if (headerRate !== ctx.rates[cat]) problems.push(`taxRt${s}: the rate of category ${cat} is ${ctx.rates[cat]}, got ${headerRate}`);
    if (!near(headerTaxable, sums.taxable)) problems.push(`taxblAmt${s}: the lines in category ${cat} add up to ${fmt(sums.taxable)}, got ${fmt(headerTaxable)}`);
    if (!near(headerVat, sums.vat)) problems.push(`taxAmt${s}: the lines in category ${cat} add up to ${fmt(sums.vat)}, got ${fmt(headerVat)}`);
  }
  if (!near(sale.totTaxblAmt, taxable)) problems.push(`totTaxblAmt: the categories add up to ${fmt(taxable)}, got ${fmt(sale.totTaxblAmt)}`);
  if (!near(sale.totTaxAmt, vat)) problems.push(`totTaxAmt: the categories add up to ${fmt(vat)}, got ${fmt(sale.totTaxAmt)}`);
  if (!near(sale.totAmt, linesTotal)) problems.push(`totAmt: the lines add up to ${fmt(linesTotal)}, got ${fmt(sale.totAmt)}`);
  return problems;
}

/** A line sells a registered, active item, with the class, units and VAT category it was registered with. */
function checkRegistration(at: string, line: SaleLine, item: { itemClsCd: string; pkgUnitCd: string; qtyUnitCd: string; vatCatCd: string; useYn: string } | undefined): string[] {
  if (!item) return [`${at}.itemCd: ${line.itemCd} is not registered on this branch (saveItem first)`];
  const problems: string[] = [];
  if (item.useYn !== 'Y') problems.push(`${at}.itemCd: ${line.itemCd} is registered as not in use (useYn N)`);
  for (const field of ['itemClsCd', 'pkgUnitCd', 'qtyUnitCd', 'vatCatCd'] as const) {
    if (line[field] !== item[field]) problems.push(`${at}.${field}: ${line.itemCd} is registered with ${item[field]}, got ${line[field]} (updateItem first)`);
  }
  return problems;
}

/** Prices include VAT: totAmt = qty x prc - dcAmt, of which vatAmt = totAmt x rate / (100 + rate). */
function checkLineAmounts(at: string, line: SaleLine, rate: number, near: (a: Decimal.Value, b: Decimal.Value) => boolean): string[] {
  const problems: string[] = [];
  const gross = new Decimal(line.qty).times(line.prc);
  const discount = new Decimal(typeof line.dcAmt === 'number' ? line.dcAmt : 0);
  if (typeof line.splyAmt === 'number' && !near(line.splyAmt, gross)) problems.push(`${at}.splyAmt: qty x prc is ${fmt(gross)}, got ${fmt(line.splyAmt)}`);
  if (typeof line.dcRt === 'number' && line.dcRt > 0 && !near(discount, gross.times(line.dcRt).div(100))) {
    problems.push(`${at}.dcAmt: ${line.dcRt}% of ${fmt(gross)} is ${fmt(gross.times(line.dcRt).div(100))}, got ${fmt(discount)}`);
  }
  const total = gross.minus(discount);
  if (!near(line.totAmt, total)) problems.push(`${at}.totAmt: qty x prc - dcAmt is ${fmt(total)}, got ${fmt(line.totAmt)}`);
  const expectedVat = new Decimal(line.totAmt).times(rate).div(new Decimal(100).plus(rate));
  if (!near(line.vatAmt, expectedVat)) {
    problems.push(`${at}.vatAmt: ${rate}% VAT contained in ${fmt(line.totAmt)} is ${fmt(expectedVat)}, got ${fmt(line.vatAmt)}`);
  }
  if (!near(new Decimal(line.vatTaxblAmt).plus(line.vatAmt), line.totAmt)) {
    problems.push(`${at}.vatTaxblAmt: vatTaxblAmt + vatAmt must equal totAmt ${fmt(line.totAmt)}, got ${fmt(line.vatTaxblAmt)} + ${fmt(line.vatAmt)}`);
  }
  return problems;
}
