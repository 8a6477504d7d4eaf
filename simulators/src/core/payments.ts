import type { SimulatorKit } from './control';
import type { Outcome, PayerBehaviour } from './payers';
import type { Recorder } from './recorder';

/** What every simulated request to pay tracks, whatever the provider. */
export interface TrackedPayment {
  /** Our id for it: MTN's X-Reference-Id, Airtel's transaction id. */
  id: string;
  msisdn: string;
  behaviour: PayerBehaviour;
  createdAt: string;
  /** When it became final (ISO 8601). */
  decidedAt?: string;
  /** While now is before this (ms since epoch), the status call still shows the request as pending. */
  revealAt?: number;
  /** Repeated requests with the same id, refused and counted. */
  duplicates: number;
  /** Callbacks sent about it. */
  callbacksSent: number;
}

export interface CallbackRequest {
  url: string;
  method: 'POST' | 'PUT';
  headers?: Record<string, string>;
  body: unknown;
}

/** The provider-specific half: statuses, and the callback's shape. */
export interface PaymentRules<P extends TrackedPayment> {
  /** Moves the payment to what `outcome` means for this provider. */
  apply(payment: P, outcome: Outcome, reason?: string): void;
  isFinal(payment: P): boolean;
  /** The callback for the payment's current state, or undefined when there is nowhere to send it. */
  callback(payment: P): CallbackRequest | undefined;
}

/**
 * The life of a request to pay: the payer decides after `afterMs` (or never), the provider may
 * expire it, a test may settle it; once final, the callback goes out as the payer's callback mode
 * says, once and without retry unless the mode says otherwise.
 */
export class PaymentEngine<P extends TrackedPayment> {
  readonly payments = new Map<string, P>();
  private readonly pending = new Map<string, { cancel(): void }[]>();

  constructor(
    private readonly kit: SimulatorKit,
    private readonly rules: PaymentRules<P>,
    private readonly options: { expireAfterMs?: number; duplicateCallbackAfterMs?: number },
  ) {}

  start(payment: P): void {
    this.payments.set(payment.id, payment);
    const timers: { cancel(): void }[] = [];
    const { outcome, afterMs, reason } = payment.behaviour;
    if (outcome !== 'ignore') timers.push(this.kit.timers.schedule(afterMs, () => this.decide(payment, outcome, reason)));
    const expireAfterMs = this.options.expireAfterMs;
    if (expireAfterMs !== undefined) {
      timers.push(this.kit.timers.schedule(expireAfterMs, () => !this.rules.isFinal(payment) && this.decide(payment, 'expire')));
    }
    this.pending.set(payment.id, timers);
  }

  /** Decides a payment now, whatever its payer would have done; refused once it is final. */
  settle(id: string, outcome: Outcome, reason?: string): P {
    const payment = this.payments.get(id);
    if (!payment) throw new Error(`no payment ${id}`);
    if (this.rules.isFinal(payment)) throw new Error(`payment ${id} is already final`);
    this.decide(payment, outcome, reason);
    return payment;
  }

  /** False while an `early` callback's payment still shows as pending. */
  revealed(payment: P, now = Date.now()): boolean {
    return payment.revealAt === undefined || now >= payment.revealAt;
  }

  clear(): void {
    this.payments.clear();
    this.pending.clear();
  }

  private decide(payment: P, outcome: Outcome, reason?: string): void {
    this.rules.apply(payment, outcome, reason);
    if (!this.rules.isFinal(payment)) return;
    payment.decidedAt = new Date().toISOString();
    for (const t of this.pending.get(payment.id) ?? []) t.cancel();
    this.pending.delete(payment.id);
    const mode = payment.behaviour.callback;
    if (mode === 'never') return;
    if (mode === 'early') payment.revealAt = Date.now() + payment.behaviour.lagMs;
    this.send(payment);
    if (mode === 'twice') this.kit.timers.schedule(this.options.duplicateCallbackAfterMs ?? 50, () => this.send(payment));
  }

  private send(payment: P): void {
    const request = this.rules.callback(payment);
    if (!request) return;
    payment.callbacksSent += 1;
    void deliverCallback(this.kit.recorder, payment.id, request);
  }
}

/** One attempt, no retry (MTN: "the callback is sent once"); the outcome goes to the log either way. */
export async function deliverCallback(recorder: Recorder, paymentId: string, request: CallbackRequest, timeoutMs = 5000): Promise<void> {
  const headers = { 'content-type': 'application/json', ...request.headers };
  const entry = { paymentId, url: request.url, method: request.method, headers, body: request.body };
  const epoch = recorder.epoch;
  try {
    const res = await fetch(request.url, { method: request.method, headers, body: JSON.stringify(request.body), signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    recorder.callback({ ...entry, status: res.status }, epoch);
  } catch (err) {
    recorder.callback({ ...entry, error: (err as Error).message }, epoch);
  }
}
