/**
 * The `reason` of the pos subgraph's CONFLICT errors: stable values clients may switch on, never
 * parsed back out of messages.
 */
export const PosReason = {
  /** The caller has no open till session at the branch to book the money to. */
  NO_OPEN_TILL_SESSION: 'NO_OPEN_TILL_SESSION',
  /** The caller has several open sessions at the branch: name one (tillSessionId). */
  TILL_SESSION_AMBIGUOUS: 'TILL_SESSION_AMBIGUOUS',
  /** The session named is closed; a closed session never changes. */
  TILL_SESSION_CLOSED: 'TILL_SESSION_CLOSED',
  /** Mobile-money requests of the session are still unanswered: approve or decline them first. */
  TILL_SESSION_HAS_PENDING_PAYMENTS: 'TILL_SESSION_HAS_PENDING_PAYMENTS',
  /** The sale is voided, fully refunded or not paid yet. */
  SALE_NOT_REFUNDABLE: 'SALE_NOT_REFUNDABLE',
  /** More units asked back than remain unrefunded on the line (extensions.remaining). */
  REFUND_EXCEEDS_REMAINING: 'REFUND_EXCEEDS_REMAINING',
  /** The payment already has its answer. */
  PAYMENT_ALREADY_ANSWERED: 'PAYMENT_ALREADY_ANSWERED',
  /** The provider named for a mobile-money payment is not configured (or disabled) for the tenant. */
  MOBILE_MONEY_NOT_CONFIGURED: 'MOBILE_MONEY_NOT_CONFIGURED',
} as const;
export type PosReason = (typeof PosReason)[keyof typeof PosReason];
