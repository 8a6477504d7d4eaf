import type { PaymentAttemptResolvers, PaymentResolvers } from '../generated/resolvers';

export const Payment: PaymentResolvers = {
  attempt: (p, _, ctx) => ctx.loaders.attemptByPayment.load(p.id),
};

export const PaymentAttempt: PaymentAttemptResolvers = {
  provider: (a) => a.provider as 'MTN' | 'AIRTEL',
  payerMsisdn: (a) => a.msisdn,
  amount: (a) => a.amount.toFixed(2),
  state: (a) => a.state as 'INITIATED' | 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'EXPIRED',
};

