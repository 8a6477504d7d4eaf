import type { PaymentMethod, TaxCategory } from '@umi/supply';

/**
 * ZRA Smart Invoice codes the POS needs, kept as data (ZRA changes them; ZAMBIA-INTEGRATIONS.md).
 * The VSDC serves the authoritative tables (`/code/selectCodes`); these are the values we send.
 */

/** Our tax category to ZRA's VAT category, unless the tenant's `fiscal_vat_categories` setting says otherwise. */
export const DEFAULT_VAT_CATEGORIES: Record<TaxCategory, string> = { STANDARD: 'A', ZERO_RATED: 'C3', EXEMPT: 'D' };

/** Categories every invoice carries `taxblAmtX/taxRtX/taxAmtX` for, used or not, with the rate in force (percent). */
export const HEADER_CATEGORY_RATES: Record<string, number> = { A: 16, B: 16, C1: 0, C2: 0, C3: 0, D: 0 };
/** The suffix of a category's header fields (`taxblAmtRvat` ...). */
export const CATEGORY_SUFFIX: Record<string, string> = { A: 'A', B: 'B', C1: 'C1', C2: 'C2', C3: 'C3', D: 'D', E: 'E', RVAT: 'Rvat', TOT: 'Tot' };
export const VAT_CATEGORY_CODES = Object.keys(CATEGORY_SUFFIX);

/** Payment type codes (class 07). Insurance is a sale on credit to the insurer. */
export const PAYMENT_TYPE: Record<PaymentMethod, string> = { CASH: '01', CARD: '05', MOBILE_MONEY: '06', INSURANCE: '02' };

/** Credit note reasons (class 32). */
export const CREDIT_NOTE_REASONS = { WRONG_PRODUCT: '1', WRONG_PRICE: '2', DAMAGED_GOODS: '3', WRONG_CUSTOMER: '4' } as const;
export type CreditNoteReason = keyof typeof CREDIT_NOTE_REASONS;

/** Stock in/out type (class 12) of each of our stock movement types. */
export const STOCK_IO_TYPE: Record<string, string> = {
  GRN: '02',
  TRANSFER_IN: '04',
  CUSTOMER_RETURN: '03',
  REFUND: '03',
  QUARANTINE_RELEASE: '06',
  SALE: '11',
  DISPENSE: '11',
  SUPPLIER_RETURN: '12',
  TRANSFER_OUT: '13',
  EXPIRY_WRITE_OFF: '15',
  QUARANTINE_WRITE_OFF: '15',
  ADJUSTMENT: '16',
  STOCKTAKE: '16',
};

/** What a product without ZRA codes of its own is registered with (Drugs and pharmaceutical products; a box of pieces). */
export const DEFAULT_ITEM_CODES = { itemClassCode: '51000000', packagingUnit: 'BX', quantityUnit: 'U', originCountry: 'ZM' };

/** The VSDC keeps Zambian local time (UTC+2, no daylight saving). */
export const VSDC_TIME_ZONE = 'Africa/Lusaka';

/** Who the invoices say registered them (regrId at most 20 characters). */
export const REGISTRANT = { id: 'umi-pos', name: 'Umi Health POS' };
export const CREDIT_NOTE_REASON_NAMES = Object.keys(CREDIT_NOTE_REASONS) as [CreditNoteReason, ...CreditNoteReason[]];
