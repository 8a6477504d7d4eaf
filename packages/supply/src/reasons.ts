/**
 * The `reason` of CONFLICT errors raised on the supply path (till sales and dispensing alike):
 * stable values clients may switch on, never parsed back out of messages.
 */
export const SupplyReason = {
  /** The caller has no open till session at the branch to book the sale or money to. */
  NO_OPEN_TILL_SESSION: 'NO_OPEN_TILL_SESSION',
  /** The caller has several open sessions at the branch: name one (tillSessionId). */
  TILL_SESSION_AMBIGUOUS: 'TILL_SESSION_AMBIGUOUS',
  /** The session named is closed; a closed session never changes. */
  TILL_SESSION_CLOSED: 'TILL_SESSION_CLOSED',
  /** More asked of a prescription item than remains of it (extensions.remaining, extensions.productId). */
  PRESCRIPTION_EXHAUSTED: 'PRESCRIPTION_EXHAUSTED',
  /** The prescription has not been verified by a pharmacist (verifyPrescription) yet. */
  PRESCRIPTION_NOT_VERIFIED: 'PRESCRIPTION_NOT_VERIFIED',
  /** The prescription is past its validity date. */
  PRESCRIPTION_EXPIRED: 'PRESCRIPTION_EXPIRED',
  /** The prescription is cancelled. */
  PRESCRIPTION_CANCELLED: 'PRESCRIPTION_CANCELLED',
  /** A contraindication was found: a pharmacist must override it with a reason (overrideReason). */
  SAFETY_OVERRIDE_REQUIRED: 'SAFETY_OVERRIDE_REQUIRED',
} as const;
export type SupplyReason = (typeof SupplyReason)[keyof typeof SupplyReason];
