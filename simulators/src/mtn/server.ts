import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { controlEndpoint, SimulatorKit, type BaseControl } from '../core/control';
import { serve, type SimRequest, type SimResponse } from '../core/http';
import { PayerBook, type Outcome, type PayerBehaviour, type PayerRule } from '../core/payers';
import { PaymentEngine, type TrackedPayment } from '../core/payments';
import type { RecordedCallback, RecordedRequest } from '../core/recorder';
import { basicCredentials, TokenStore } from '../core/tokens';

/** API user (a UUID), API key and subscription key of one MTN MoMo Collections account. */
export interface MtnAccount {
  apiUser: string;
  apiKey: string;
  subscriptionKey: string;
}

/** The account the simulator knows unless told otherwise: test credentials, nothing secret. */
export const MTN_TEST_ACCOUNT: MtnAccount = {
  apiUser: '0b1d4f8e-6c2a-4f5e-9a7b-3c8d2e1f6a40',
  apiKey: 'umi-sim-mtn-api-key-0000000000001',
  subscriptionKey: 'umi0sim0mtn0subscription0key00001',
};

export interface MtnSimulatorOptions {
  port?: number;
  host?: string;
  /** Default: [MTN_TEST_ACCOUNT]. */
  accounts?: MtnAccount[];
  /** The `X-Target-Environment` accepted (default `mtnzambia`; MTN's sandbox is `sandbox`). */
  targetEnvironment?: string;
  /** The only currency accepted (default ZMW). */
  currency?: string;
  /** A payer's MSISDN is this country code and 9 digits (default 260, Zambia). */
  countryCode?: string;
  /** Lifetime of access tokens (default 3600 s, as MTN's). */
  tokenTtlSeconds?: number;
  /** What payers do unless a rule says otherwise (default: approve after 1000 ms, callback once). */
  payer?: Partial<PayerBehaviour>;
  /** The provider expires a request still pending after this long (default: never). */
  expireAfterMs?: number;
  /** MTN asks listeners to accept PUT and POST; the simulator sends PUT unless told (default PUT). */
  callbackMethod?: 'PUT' | 'POST';
}

export type MtnStatus = 'PENDING' | 'SUCCESSFUL' | 'FAILED';

export interface MtnPayment extends TrackedPayment {
  subscriptionKey: string;
  request: { amount: string; currency: string; externalId: string; payer: { partyIdType: 'MSISDN'; partyId: string }; payerMessage?: string; payeeNote?: string };
  callbackUrl?: string;
  status: MtnStatus;
  financialTransactionId?: string;
  reason?: string;
}

export interface MtnControl extends BaseControl {
  /** How a payer (one MSISDN) or the next request(s) behave. */
  payer(rule: PayerRule): void;
  /** Decides a pending request now: approve, decline, fail (with `reason`) or expire. */
  settle(input: { id: string; outcome: Outcome; reason?: string }): void;
  /** Every access token stops working (clients must take a new one). */
  expireTokens(): void;
  addAccount(account: MtnAccount): void;
}

export interface MtnSimulator {
  /** Base URL of the API (what `https://sandbox.momodeveloper.mtn.com` is for the real one). */
  url: string;
  port: number;
  control: MtnControl;
  requests: readonly RecordedRequest[];
  callbacks: readonly RecordedCallback[];
  /** A request to pay by X-Reference-Id, as the simulator holds it (status, duplicates, callbacks sent). */
  payment(referenceId: string): MtnPayment | undefined;
  payments(): MtnPayment[];
  close(): Promise<void>;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const accountSchema = z.object({ apiUser: z.string().regex(UUID_V4, 'must be a UUID v4'), apiKey: z.string().min(1), subscriptionKey: z.string().min(1) });
const settleSchema = z.object({ id: z.string().min(1), outcome: z.enum(['approve', 'decline', 'fail', 'expire']), reason: z.string().min(1).optional() });

const error = (status: number, code: string, message: string): SimResponse => ({ status, body: { code, message } });
/** Azure API Management answers these itself, before MTN's API sees the request. */
const apimDenied = (message: string): SimResponse => ({ status: 401, body: { statusCode: 401, message } });

/** Starts an MTN MoMo Collections (request to pay) simulator (see the README's Simulators section). */
export async function startMtnSimulator(options: MtnSimulatorOptions = {}): Promise<MtnSimulator> {
  const kit = new SimulatorKit();
  const configured = (options.accounts ?? [MTN_TEST_ACCOUNT]).map((a) => accountSchema.parse(a));
  const accounts = new Map<string, MtnAccount>();
  const resetAccounts = () => {
    accounts.clear();
    for (const a of configured) accounts.set(a.subscriptionKey, a);
  };
  resetAccounts();
  const environment = options.targetEnvironment ?? 'mtnzambia';
  const currency = options.currency ?? 'ZMW';
  const msisdn = new RegExp(`^${options.countryCode ?? '260'}\\d{9}$`);
  const tokens = new TokenStore<string>();
  const payers = new PayerBook({ outcome: 'approve', afterMs: 1000, callback: 'once', lagMs: 500, ...options.payer });
  const engine = new PaymentEngine<MtnPayment>(
    kit,
    {
      apply(p, outcome, reason) {
        if (outcome === 'approve') Object.assign(p, { status: 'SUCCESSFUL', financialTransactionId: String(randomInt(1_000_000_000, 9_999_999_999)) });
        else if (outcome === 'decline') Object.assign(p, { status: 'FAILED', reason: 'APPROVAL_REJECTED' });
        else if (outcome === 'expire') Object.assign(p, { status: 'FAILED', reason: 'EXPIRED' });
        else if (outcome === 'fail') Object.assign(p, { status: 'FAILED', reason: reason ?? 'INTERNAL_PROCESSING_ERROR' });
      },
      isFinal: (p) => p.status !== 'PENDING',
      callback: (p) => (p.callbackUrl ? { url: p.callbackUrl, method: options.callbackMethod ?? 'PUT', body: view(p, true) } : undefined),
    },
    { expireAfterMs: options.expireAfterMs },
  );

  /** The status call's body (and the callback's): decided fields only once revealed. */
  function view(p: MtnPayment, revealed: boolean) {
    const base = { ...p.request, status: revealed ? p.status : 'PENDING' };
    if (!revealed || p.status === 'PENDING') return base;
    return p.status === 'SUCCESSFUL' ? { financialTransactionId: p.financialTransactionId, ...base } : { ...base, reason: p.reason };
  }

  /** Subscription key, bearer token of that account, target environment: the checks every API call passes. */
  function authorise(req: SimRequest): { account: MtnAccount } | { denied: SimResponse } {
    const account = accounts.get(req.headers['ocp-apim-subscription-key'] ?? '');
    if (!account) return { denied: apimDenied('Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.') };
    if (tokens.verify(req.headers.authorization) !== account.subscriptionKey) return { denied: apimDenied('Access denied due to invalid or expired access token.') };
    if (req.headers['x-target-environment'] !== environment) {
      return { denied: error(403, 'NOT_ALLOWED_TARGET_ENVIRONMENT', `Access to target environment ${req.headers['x-target-environment'] ?? '(none)'} is forbidden; this account is in ${environment}`) };
    }
    return { account };
  }

  const bodySchema = z.object({
    amount: z.string().regex(/^\d+(\.\d{1,2})?$/, 'must be a decimal string, e.g. "25.50"').refine((v) => Number(v) > 0, 'must be more than 0'),
    currency: z.string().length(3, 'must be an ISO 4217 code'),
    externalId: z.string().min(1, 'is required').max(64),
    payer: z.object({ partyIdType: z.literal('MSISDN', 'the simulator takes MSISDN payers only'), partyId: z.string().regex(msisdn, `must be an MSISDN: ${options.countryCode ?? '260'} and 9 digits, no +`) }),
    payerMessage: z.string().max(160).optional(),
    payeeNote: z.string().max(160).optional(),
  });

  const requestToPay = (req: SimRequest): SimResponse => {
    const auth = authorise(req);
    if ('denied' in auth) return auth.denied;
    const referenceId = req.headers['x-reference-id'] ?? '';
    if (!UUID_V4.test(referenceId)) return error(400, 'BAD_REQUEST', 'X-Reference-Id must be a UUID version 4');
    const existing = engine.payments.get(referenceId);
    if (existing) {
      existing.duplicates += 1;
      return error(409, 'RESOURCE_ALREADY_EXIST', 'Duplicated reference id. Creation for resource failed.');
    }
    const callbackUrl = req.headers['x-callback-url'];
    if (callbackUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(callbackUrl)) return error(400, 'INVALID_CALLBACK_URL_HOST', 'X-Callback-Url must be an http(s) URL');
    const parsed = bodySchema.safeParse(req.json);
    if (!parsed.success) return error(400, 'BAD_REQUEST', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    if (parsed.data.currency !== currency) return error(400, 'INVALID_CURRENCY', `Currency ${parsed.data.currency} is not supported; this account collects ${currency}`);
    engine.start({
      id: referenceId,
      msisdn: parsed.data.payer.partyId,
      behaviour: payers.take(parsed.data.payer.partyId),
      createdAt: new Date().toISOString(),
      duplicates: 0,
      callbacksSent: 0,
      subscriptionKey: auth.account.subscriptionKey,
      request: parsed.data,
      callbackUrl,
      status: 'PENDING',
    });
    return { status: 202 };
  };

  const status = (req: SimRequest, [referenceId]: string[]): SimResponse => {
    const auth = authorise(req);
    if ('denied' in auth) return auth.denied;
    const payment = engine.payments.get(referenceId ?? '');
    if (!payment || payment.subscriptionKey !== auth.account.subscriptionKey) return error(404, 'RESOURCE_NOT_FOUND', 'Requested resource was not found.');
    return { status: 200, body: view(payment, engine.revealed(payment)) };
  };

  const token = (req: SimRequest): SimResponse => {
    const account = accounts.get(req.headers['ocp-apim-subscription-key'] ?? '');
    if (!account) return apimDenied('Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.');
    const basic = basicCredentials(req.headers.authorization);
    if (!basic || basic.user !== account.apiUser || basic.password !== account.apiKey) return { status: 401, body: { error: 'login_failed' } };
    const ttl = options.tokenTtlSeconds ?? 3600;
    return { status: 200, body: { access_token: tokens.issue(account.subscriptionKey, ttl, 'jwt'), token_type: 'access_token', expires_in: ttl } };
  };

  const control: MtnControl = {
    ...kit.baseControl(() => {
      engine.clear();
      payers.clear();
      tokens.expireAll();
      resetAccounts();
    }),
    payer: (rule) => {
      if (rule.outcome === 'ambiguous') throw new Error('MTN has no ambiguous status: use ignore (stays PENDING)');
      payers.set(rule);
    },
    settle: (input) => {
      const { id, outcome, reason } = settleSchema.parse(input);
      engine.settle(id, outcome, reason);
    },
    expireTokens: () => tokens.expireAll(),
    addAccount: (account) => {
      const a = accountSchema.parse(account);
      accounts.set(a.subscriptionKey, a);
    },
  };

  const served = await serve({
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    ...kit,
    routes: [
      { method: 'POST', path: '/collection/token/', handle: token },
      { method: 'POST', path: '/collection/token', handle: token },
      { method: 'POST', path: '/collection/v1_0/requesttopay', handle: requestToPay },
      { method: 'GET', path: /^\/collection\/v1_0\/requesttopay\/([^/]+)$/, handle: status },
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
