import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { controlEndpoint, SimulatorKit, type BaseControl } from '../core/control';
import { compactDateTime } from '../core/dates';
import { serve, type SimRequest, type SimResponse } from '../core/http';
import { PayerBook, type Outcome, type PayerBehaviour, type PayerRule } from '../core/payers';
import { PaymentEngine, type TrackedPayment } from '../core/payments';
import type { RecordedCallback, RecordedRequest } from '../core/recorder';
import { TokenStore } from '../core/tokens';
import { FAILURE_REASONS, PAYMENT_STATES, RESULT_CODES, type AirtelStatus } from './codes';
import { airtelCallbackHash } from './hash';

/** A merchant application: OAuth2 client, and the callback registered for it on Airtel's portal. */
export interface AirtelClient {
  clientId: string;
  clientSecret: string;
  /** Where callbacks go; none are sent without one. */
  callbackUrl?: string;
  /** Signs callbacks (`hash`); null sends them unsigned. Default AIRTEL_TEST_CALLBACK_SECRET. */
  callbackSecret?: string | null;
}

export const AIRTEL_TEST_CLIENT = { clientId: 'umi-sim-airtel-client-id', clientSecret: 'umi-sim-airtel-client-secret' } as const;
export const AIRTEL_TEST_CALLBACK_SECRET = 'umi-sim-airtel-callback-secret';

export interface AirtelSimulatorOptions {
  port?: number;
  host?: string;
  /** Default: [AIRTEL_TEST_CLIENT] with `callbackUrl` below. */
  clients?: AirtelClient[];
  /** Callback URL of the default client. */
  callbackUrl?: string;
  /** Default ZM and ZMW: what `X-Country` / `X-Currency` and the body must say. */
  country?: string;
  currency?: string;
  /** Lifetime of access tokens (default 180 s, as Airtel's). */
  tokenTtlSeconds?: number;
  /** What payers do unless a rule says otherwise (default: approve after 1000 ms, callback once). */
  payer?: Partial<PayerBehaviour>;
  /** A payment still in progress after this long expires (TE). Default: never. */
  expireAfterMs?: number;
}

export interface AirtelPayment extends TrackedPayment {
  clientId: string;
  request: { reference: string; subscriber: Record<string, unknown>; transaction: { amount: number | string; id: string } & Record<string, unknown> };
  status: AirtelStatus;
  responseCode: string;
  message: string;
  airtelMoneyId: string | null;
  refundedAt?: string;
}

export interface AirtelControl extends BaseControl {
  payer(rule: PayerRule): void;
  /** Decides a payment in progress (or ambiguous) now. */
  settle(input: { id: string; outcome: Outcome; reason?: string }): void;
  expireTokens(): void;
  /** Adds a client or replaces its settings (e.g. the callback URL, once the platform listens). */
  setClient(client: AirtelClient): void;
}

export interface AirtelSimulator {
  url: string;
  port: number;
  control: AirtelControl;
  requests: readonly RecordedRequest[];
  callbacks: readonly RecordedCallback[];
  payment(transactionId: string): AirtelPayment | undefined;
  payments(): AirtelPayment[];
  close(): Promise<void>;
}

const clientSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  callbackUrl: z.string().url().optional(),
  callbackSecret: z.string().min(1).nullable().optional(),
});
const settleSchema = z.object({ id: z.string().min(1), outcome: z.enum(['approve', 'decline', 'fail', 'expire', 'ambiguous']), reason: z.string().min(1).optional() });

const answer = (httpStatus: number, [resultCode, message]: readonly [string, string], success: boolean, data: unknown = {}, responseCode?: string): SimResponse => ({
  status: httpStatus,
  body: { data, status: { code: String(httpStatus), message: success ? 'SUCCESS' : message, result_code: resultCode, ...(responseCode ? { response_code: responseCode } : {}), success } },
});
const invalid = (message: string): SimResponse => answer(400, [RESULT_CODES.fieldValidation[0], message], false);

/** Starts an Airtel Money (Open API collections) simulator (see the README's Simulators section). */
export async function startAirtelSimulator(options: AirtelSimulatorOptions = {}): Promise<AirtelSimulator> {
  const kit = new SimulatorKit();
  const country = options.country ?? 'ZM';
  const currency = options.currency ?? 'ZMW';
  const configured = (options.clients ?? [{ ...AIRTEL_TEST_CLIENT, callbackUrl: options.callbackUrl }]).map((c) => clientSchema.parse(c));
  const clients = new Map<string, AirtelClient>();
  const resetClients = () => {
    clients.clear();
    for (const c of configured) clients.set(c.clientId, c);
  };
  resetClients();
  const tokens = new TokenStore<string>();
  const payers = new PayerBook({ outcome: 'approve', afterMs: 1000, callback: 'once', lagMs: 500, ...options.payer });
  const engine = new PaymentEngine<AirtelPayment>(
    kit,
    {
      apply(p, outcome, reason) {
        const state =
          outcome === 'approve'
            ? PAYMENT_STATES.success
            : outcome === 'ambiguous'
              ? PAYMENT_STATES.ambiguous
              : outcome === 'expire'
                ? PAYMENT_STATES.expired
                : outcome === 'fail'
                  ? { status: 'TF' as const, ...(FAILURE_REASONS[reason ?? 'NOT_ENOUGH_BALANCE'] ?? { responseCode: PAYMENT_STATES.refused.responseCode, message: reason ?? 'Failed' }) }
                  : outcome === 'decline'
                    ? PAYMENT_STATES.refused
                    : undefined;
        if (!state) return;
        Object.assign(p, { status: state.status, responseCode: state.responseCode, message: state.message });
        if (state.status !== 'TA') p.airtelMoneyId ??= airtelMoneyId();
        if (state.status === 'TS') p.message = `Paid ${currency} ${p.request.transaction.amount}, Trans ID ${p.airtelMoneyId}.`;
      },
      isFinal: (p) => p.status === 'TS' || p.status === 'TF' || p.status === 'TE',
      callback(p) {
        const client = clients.get(p.clientId);
        if (!client?.callbackUrl) return undefined;
        const transaction = { id: p.id, message: p.message, status_code: p.status, airtel_money_id: p.airtelMoneyId };
        const secret = client.callbackSecret === undefined ? AIRTEL_TEST_CALLBACK_SECRET : client.callbackSecret;
        return { url: client.callbackUrl, method: 'POST', body: secret === null ? { transaction } : { transaction, hash: airtelCallbackHash(secret, transaction) } };
      },
    },
    { expireAfterMs: options.expireAfterMs },
  );

  /** Airtel Money ids look like MP210603.1234.L06941: date, time, a letter and a number. */
  function airtelMoneyId(): string {
    const t = compactDateTime(new Date(), 120);
    return `MP${t.slice(2, 8)}.${t.slice(8, 12)}.${String.fromCharCode(65 + randomInt(26))}${String(randomInt(100_000)).padStart(5, '0')}`;
  }

  /** Bearer token, then the country and currency headers, on every API call. */
  function authorise(req: SimRequest): { clientId: string } | { denied: SimResponse } {
    const clientId = tokens.verify(req.headers.authorization);
    if (!clientId || !clients.has(clientId)) return { denied: { status: 401, body: { error: 'invalid_token', error_description: 'The access token is invalid or has expired' } } };
    if (req.headers['x-country'] !== country) return { denied: answer(400, [RESULT_CODES.country[0], `X-Country must be ${country}`], false) };
    if (req.headers['x-currency'] !== currency) return { denied: answer(400, [RESULT_CODES.currency[0], `X-Currency must be ${currency}`], false) };
    return { clientId };
  }

  const amount = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/)]).refine((v) => Number(v) > 0 && /^\d+(\.\d{1,2})?$/.test(String(v)), 'must be more than 0, at most 2 decimals');
  const paymentSchema = z.object({
    reference: z.string().min(1, 'is required').max(64),
    subscriber: z.looseObject({ country: z.literal(country, `must be ${country}`), currency: z.literal(currency, `must be ${currency}`).optional(), msisdn: z.union([z.string(), z.number()]) }),
    transaction: z.looseObject({ amount, country: z.literal(country, `must be ${country}`).optional(), currency: z.literal(currency, `must be ${currency}`).optional(), id: z.union([z.string().min(1).max(64), z.number()]) }),
  });

  const pay = (req: SimRequest): SimResponse => {
    const auth = authorise(req);
    if ('denied' in auth) return auth.denied;
    const parsed = paymentSchema.safeParse(req.json);
    if (!parsed.success) return invalid(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    const msisdn = String(parsed.data.subscriber.msisdn);
    if (!/^\d+$/.test(msisdn)) return invalid('subscriber.msisdn: digits only');
    if (msisdn.length !== 9) return answer(400, [RESULT_CODES.msisdnLength[0], `${RESULT_CODES.msisdnLength[1]} (9 digits, got ${msisdn.length})`], false);
    const id = String(parsed.data.transaction.id);
    const existing = engine.payments.get(id);
    if (existing) {
      existing.duplicates += 1;
      return answer(200, RESULT_CODES.duplicateId, false);
    }
    engine.start({
      id,
      msisdn,
      behaviour: payers.take(msisdn),
      createdAt: new Date().toISOString(),
      duplicates: 0,
      callbacksSent: 0,
      clientId: auth.clientId,
      request: { ...parsed.data, transaction: { ...parsed.data.transaction, id } },
      ...PAYMENT_STATES.inProgress,
      airtelMoneyId: null,
    });
    return answer(200, RESULT_CODES.success, true, { transaction: { id, status: 'Success.' } }, PAYMENT_STATES.inProgress.responseCode);
  };

  const enquire = (req: SimRequest, [id]: string[]): SimResponse => {
    const auth = authorise(req);
    if ('denied' in auth) return auth.denied;
    const p = engine.payments.get(id ?? '');
    if (!p || p.clientId !== auth.clientId) return answer(404, RESULT_CODES.notFound, false);
    const shown = engine.revealed(p) ? p : { ...p, ...PAYMENT_STATES.inProgress, airtelMoneyId: null };
    return answer(200, RESULT_CODES.success, true, { transaction: { airtel_money_id: shown.airtelMoneyId, id: p.id, message: shown.message, status: shown.status } }, shown.responseCode);
  };

  const refund = (req: SimRequest): SimResponse => {
    const auth = authorise(req);
    if ('denied' in auth) return auth.denied;
    const parsed = z.object({ transaction: z.looseObject({ airtel_money_id: z.string().min(1, 'is required') }) }).safeParse(req.json);
    if (!parsed.success) return invalid(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const airtelId = parsed.data.transaction.airtel_money_id;
    const p = [...engine.payments.values()].find((x) => x.airtelMoneyId === airtelId && x.clientId === auth.clientId);
    if (!p) return answer(200, RESULT_CODES.notFound, false);
    if (p.status !== 'TS') return answer(200, [RESULT_CODES.failed[0], `only a successful payment can be refunded; ${airtelId} is ${p.status}`], false);
    if (p.refundedAt) return answer(200, [RESULT_CODES.failed[0], `${airtelId} was already refunded`], false);
    p.refundedAt = new Date().toISOString();
    return answer(200, RESULT_CODES.success, true, { transaction: { airtel_money_id: airtelId, status: 'SUCCESS' } });
  };

  const token = (req: SimRequest): SimResponse => {
    const body = z.object({ client_id: z.string(), client_secret: z.string(), grant_type: z.literal('client_credentials') }).safeParse(req.json);
    const client = body.success ? clients.get(body.data.client_id) : undefined;
    if (!body.success || !client || client.clientSecret !== body.data.client_secret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Invalid client authentication' } };
    }
    const ttl = options.tokenTtlSeconds ?? 180;
    return { status: 200, body: { access_token: tokens.issue(client.clientId, ttl, 'opaque'), expires_in: String(ttl), token_type: 'bearer' } };
  };

  const control: AirtelControl = {
    ...kit.baseControl(() => {
      engine.clear();
      payers.clear();
      tokens.expireAll();
      resetClients();
    }),
    payer: (rule) => payers.set(rule),
    settle: (input) => {
      const { id, outcome, reason } = settleSchema.parse(input);
      engine.settle(id, outcome, reason);
    },
    expireTokens: () => tokens.expireAll(),
    setClient: (client) => {
      const c = clientSchema.parse(client);
      clients.set(c.clientId, c);
    },
  };

  const served = await serve({
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    ...kit,
    routes: [
      { method: 'POST', path: '/auth/oauth2/token', handle: token },
      { method: 'POST', path: '/merchant/v1/payments/', handle: pay },
      { method: 'POST', path: '/merchant/v1/payments', handle: pay },
      { method: 'GET', path: /^\/standard\/v1\/payments\/([^/]+)$/, handle: enquire },
      { method: 'POST', path: '/standard/v2/payments/refund', handle: refund },
    ],
    control: controlEndpoint(control, {
      requests: () => kit.recorder.requests,
      callbacks: () => kit.recorder.callbacks,
      state: () => ({ payments: [...engine.payments.values()] }),
    }),
  });
  return {
    url: served.origin,
    port: served.port,
    control,
    requests: kit.recorder.requests,
    callbacks: kit.recorder.callbacks,
    payment: (id) => engine.payments.get(id),
    payments: () => [...engine.payments.values()],
    close: served.close,
  };
}
