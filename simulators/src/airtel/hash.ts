import { createHmac } from 'node:crypto';

/** The `transaction` object of an Airtel callback, fields in this order. */
export interface AirtelCallbackTransaction {
  id: string;
  message: string;
  status_code: string;
  airtel_money_id: string | null;
}

/**
 * The callback's `hash`: base64 of HMAC-SHA256, keyed with the secret shared with Airtel when the
 * callback was registered, over the JSON text of `{"transaction": {...}}` (the body without the
 * hash, fields in the order above, no whitespace). A receiver re-serialises the parsed
 * transaction the same way and compares in constant time.
 */
export function airtelCallbackHash(secret: string, transaction: AirtelCallbackTransaction): string {
  const { id, message, status_code, airtel_money_id } = transaction;
  const canonical = JSON.stringify({ transaction: { id, message, status_code, airtel_money_id } });
  return createHmac('sha256', secret).update(canonical).digest('base64');
}
