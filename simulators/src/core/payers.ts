import { z } from 'zod';

/**
 * What a payer does with a request to pay. `ignore`: never answers (the request stays pending
 * unless the provider expires it); `ambiguous`: the provider cannot tell (Airtel's TA) until the
 * test settles it; `fail`: the provider fails it with `reason` (not enough funds, ...).
 */
export const OUTCOMES = ['approve', 'decline', 'fail', 'expire', 'ignore', 'ambiguous'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * How the callback of a decided payment behaves: sent `once` (the providers' promise), `never`,
 * `twice` (a duplicate), or `early`: sent at once while the status call keeps answering pending
 * for `lagMs` more (the callback arrives before the status changes).
 */
export const CALLBACK_MODES = ['once', 'never', 'twice', 'early'] as const;
export type CallbackMode = (typeof CALLBACK_MODES)[number];

export interface PayerBehaviour {
  outcome: Outcome;
  /** How long the payer takes to decide. */
  afterMs: number;
  callback: CallbackMode;
  /** The provider's failure reason for `fail` (e.g. NOT_ENOUGH_FUNDS). */
  reason?: string;
  lagMs: number;
}

export const payerRuleSchema = z.object({
  /** Every request to this subscriber (matched on the last 9 digits, with or without country code); without it, the next `count` requests. */
  msisdn: z.string().regex(/^\+?\d{6,15}$/, 'must be a phone number, digits only').optional(),
  count: z.number().int().positive().optional(),
  outcome: z.enum(OUTCOMES).optional(),
  afterMs: z.number().int().min(0).max(3_600_000).optional(),
  callback: z.enum(CALLBACK_MODES).optional(),
  reason: z.string().min(1).optional(),
  lagMs: z.number().int().min(0).max(3_600_000).optional(),
});
export type PayerRule = z.input<typeof payerRuleSchema>;

const subscriber = (msisdn: string) => msisdn.replace(/\D/g, '').slice(-9);

/** The payers' behaviours: rules for the next requests first, then per subscriber, then the defaults. */
export class PayerBook {
  private readonly bySubscriber = new Map<string, Partial<PayerBehaviour>>();
  private next: { behaviour: Partial<PayerBehaviour>; remaining: number }[] = [];

  constructor(private readonly defaults: PayerBehaviour) {}

  set(input: PayerRule): void {
    const { msisdn, count, ...rule } = payerRuleSchema.parse(input);
    const behaviour = Object.fromEntries(Object.entries(rule).filter(([, v]) => v !== undefined)) as Partial<PayerBehaviour>;
    if (msisdn) {
      if (count !== undefined) throw new Error('count applies to next-request rules; a subscriber rule lasts until reset');
      this.bySubscriber.set(subscriber(msisdn), behaviour);
    } else {
      this.next.push({ behaviour, remaining: count ?? 1 });
    }
  }

  take(msisdn: string): PayerBehaviour {
    const next = this.next[0];
    if (next) {
      next.remaining -= 1;
      if (next.remaining === 0) this.next.shift();
      return { ...this.defaults, ...next.behaviour };
    }
    return { ...this.defaults, ...this.bySubscriber.get(subscriber(msisdn)) };
  }

  clear(): void {
    this.bySubscriber.clear();
    this.next = [];
  }
}
