/**
 * Airtel Money's codes, as its public API documentation lists them (abridged), kept as data.
 * `result_code` (ESB...) says what the API did with the call; `response_code` (DP...) and the
 * transaction `status` say where the payment is.
 */
export const RESULT_CODES = {
  success: ['ESB000010', 'Success.'],
  failed: ['ESB000011', 'Failed'],
  fieldValidation: ['ESB000008', 'Field validation'],
  msisdnLength: ['ESB000033', 'Invalid MSISDN length: send the number without the country code'],
  country: ['ESB000034', 'Invalid country'],
  currency: ['ESB000035', 'Invalid currency'],
  duplicateId: ['ESB000041', 'External transaction ID already exists'],
  notFound: ['ESB000045', 'No transaction found with provided transaction ID'],
} as const;

export type AirtelStatus = 'TIP' | 'TS' | 'TF' | 'TA' | 'TE';

/** The state of a payment: status code, response code and message. */
export const PAYMENT_STATES = {
  inProgress: { status: 'TIP', responseCode: 'DP00800001006', message: 'Transaction in progress' },
  success: { status: 'TS', responseCode: 'DP00800001001', message: 'Transaction is successful' },
  ambiguous: { status: 'TA', responseCode: 'DP00800001000', message: 'Transaction is ambiguous' },
  refused: { status: 'TF', responseCode: 'DP00800001008', message: 'The transaction was refused' },
  expired: { status: 'TE', responseCode: 'DP00800001024', message: 'Transaction timed out' },
} as const satisfies Record<string, { status: AirtelStatus; responseCode: string; message: string }>;

/** Failures a test may ask for by `reason` (default NOT_ENOUGH_BALANCE). */
export const FAILURE_REASONS: Record<string, { responseCode: string; message: string }> = {
  INCORRECT_PIN: { responseCode: 'DP00800001002', message: 'Incorrect pin has been entered' },
  LIMIT_EXCEEDED: { responseCode: 'DP00800001003', message: 'The withdrawal amount limit has been exceeded' },
  INVALID_AMOUNT: { responseCode: 'DP00800001004', message: 'Invalid amount' },
  NOT_ENOUGH_BALANCE: { responseCode: 'DP00800001007', message: 'Not enough balance' },
  NOT_PERMITTED: { responseCode: 'DP00800001010', message: 'Transaction not permitted to payee' },
};
