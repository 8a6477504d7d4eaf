import { SupplyReason } from '@umi/supply';

/**
 * The `reason` of the pos subgraph's CONFLICT errors: stable values clients may switch on, never
 * parsed back out of messages.
 */
export const PosReason = {
  /** The supply path's reasons (till sessions, prescriptions, safety), shared with dispensing. */
  ...SupplyReason,
  /** Mobile-money requests of the session are still unanswered: approve or decline them first. */
  TILL_SESSION_HAS_PENDING_PAYMENTS: 'TILL_SESSION_HAS_PENDING_PAYMENTS',
  /** The sale is voided, fully refunded or not paid yet. */
  SALE_NOT_REFUNDABLE: 'SALE_NOT_REFUNDABLE',
  /** More units asked back than remain unrefunded on the line (extensions.remaining). */
  REFUND_EXCEEDS_REMAINING: 'REFUND_EXCEEDS_REMAINING',
  /** The sale already has its payments (paySale takes the money of an unpaid sale once). */
  SALE_ALREADY_PAID: 'SALE_ALREADY_PAID',
  /** The sale is voided or refunded: there is nothing to pay. */
  SALE_NOT_PAYABLE: 'SALE_NOT_PAYABLE',
  /** The payment already has its answer. */
  PAYMENT_ALREADY_ANSWERED: 'PAYMENT_ALREADY_ANSWERED',
  /** Only a REJECTED fiscal document is queued again by hand; the others are the worker's. */
  FISCAL_NOT_REJECTED: 'FISCAL_NOT_REJECTED',
  /** The provider named for a mobile-money payment is not configured (or disabled) for the tenant. */
  MOBILE_MONEY_NOT_CONFIGURED: 'MOBILE_MONEY_NOT_CONFIGURED',
} as const;
export type PosReason = (typeof PosReason)[keyof typeof PosReason];
