import { createHmac, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** A provider's credentials for one tenant, decrypted only in memory, for the time of a call. */
export interface ProviderConfig {
  provider: 'MTN' | 'AIRTEL';
  baseUrl: string;
  environment: string;
  callbackBaseUrl: string | null;
  secrets: {
    apiUser?: string;
    apiKey?: string;
    subscriptionKey?: string;
    clientId?: string;
    clientSecret?: string;
    callbackSecret: string;
  };
}

export interface PayRequest {
  reference: string;
  amount: string;
  msisdn: string;
  externalId: string;
  message: string;
  callbackUrl: string | null;
}

/** What the provider said about a request to pay, in our terms. */
export type ProviderStatus =
  | { kind: 'PENDING'; raw: string }
  | { kind: 'SUCCEEDED'; raw: string; transactionId: string | null }
  | { kind: 'FAILED'; raw: string; reason: string }
  | { kind: 'EXPIRED'; raw: string; reason: string }
  /** The provider does not know the reference: the request never arrived. */
  | { kind: 'UNKNOWN'; raw: string };

/** A provider's answer we cannot act on (5xx, timeout, unexpected body): try again later. */
export class ProviderUnavailable extends Error {}
/** The provider refused the request as such (bad credentials, malformed): retrying will not help. */
export class ProviderRefused extends Error {}

export interface ProviderClient {
  /** Sends a request to pay; resolves when the provider accepted it or already had it (same reference). */
  requestToPay(cfg: ProviderConfig, req: PayRequest): Promise<void>;
  status(cfg: ProviderConfig, reference: string): Promise<ProviderStatus>;
}

// Tokens are short-lived and per credentials: cache them by (provider, base URL, user), a little
// shorter than they live.
const tokens = new LRUCache<string, { token: string; until: number }>({ max: 1000 });

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new ProviderUnavailable(`${init.method ?? 'GET'} ${new URL(url).pathname}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (res.status >= 500) throw new ProviderUnavailable(`${init.method ?? 'GET'} ${new URL(url).pathname}: HTTP ${res.status}`);
  return { status: res.status, body };
}

const join = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`;
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

/** MTN MoMo Collections: token by basic auth, request to pay by X-Reference-Id, status by reference. */
export function mtnClient(timeoutMs: number): ProviderClient {
  async function token(cfg: ProviderConfig, renew = false): Promise<string> {
    const key = `MTN|${cfg.baseUrl}|${cfg.secrets.apiUser}|${cfg.secrets.apiKey}`;
    const cached = tokens.get(key);
    if (cached && !renew && cached.until > Date.now()) return cached.token;
    const { status, body } = await call(
      join(cfg.baseUrl, '/collection/token/'),
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${cfg.secrets.apiUser ?? ''}:${cfg.secrets.apiKey ?? ''}`).toString('base64')}`,
          'ocp-apim-subscription-key': cfg.secrets.subscriptionKey ?? '',
        },
      },
      timeoutMs,
    );
    const b = obj(body);
    if (status !== 200 || typeof b.access_token !== 'string') throw new ProviderRefused(`MTN token: HTTP ${status} ${JSON.stringify(body)}`);
    const ttl = Number(b.expires_in ?? 60);
    tokens.set(key, { token: b.access_token, until: Date.now() + Math.max(5, ttl - 30) * 1000 });
    return b.access_token;
  }

  async function authed(cfg: ProviderConfig, path: string, init: RequestInit & { headers: Record<string, string> }) {
    let t = await token(cfg);
    const send = () =>
      call(
        join(cfg.baseUrl, path),
        {
          ...init,
          headers: { ...init.headers, authorization: `Bearer ${t}`, 'x-target-environment': cfg.environment, 'ocp-apim-subscription-key': cfg.secrets.subscriptionKey ?? '' },
        },
        timeoutMs,
      );
    let r = await send();
    if (r.status === 401) {
      t = await token(cfg, true);
      r = await send();
    }
    return r;
  }

  return {
    async requestToPay(cfg, req) {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-reference-id': req.reference };
      if (req.callbackUrl) headers['x-callback-url'] = req.callbackUrl;
      const { status, body } = await authed(cfg, '/collection/v1_0/requesttopay', {
        method: 'POST',
        headers,
        body: JSON.stringify({
          amount: req.amount,
          currency: 'ZMW',
          externalId: req.externalId,
          payer: { partyIdType: 'MSISDN', partyId: req.msisdn },
          payerMessage: req.message,
          payeeNote: req.message,
        }),
      });
      // 409: the provider already holds this reference; the first request stands.
      if (status === 202 || status === 409) return;
      throw new ProviderRefused(`MTN requesttopay: HTTP ${status} ${JSON.stringify(body)}`);
    },
    async status(cfg, reference) {
      const { status, body } = await authed(cfg, `/collection/v1_0/requesttopay/${reference}`, { method: 'GET', headers: {} });
      if (status === 404) return { kind: 'UNKNOWN', raw: 'NOT_FOUND' };
      if (status !== 200) throw new ProviderUnavailable(`MTN status: HTTP ${status}`);
      // Decide on `status`, never on the HTTP code: a failed payment answers 200 too.
      const b = obj(body);
      const s = str(b.status) ?? '';
      if (s === 'SUCCESSFUL') return { kind: 'SUCCEEDED', raw: s, transactionId: str(b.financialTransactionId) };
      if (s === 'FAILED') {
        const reason = str(b.reason) ?? 'FAILED';
        return reason === 'EXPIRED' ? { kind: 'EXPIRED', raw: s, reason } : { kind: 'FAILED', raw: s, reason };
      }
      if (s === 'PENDING') return { kind: 'PENDING', raw: s };
      throw new ProviderUnavailable(`MTN status: unexpected status ${JSON.stringify(s)}`);
    },
  };
}

/** Airtel Money Open API: OAuth2 client credentials, USSD push by transaction id, status by id. */
export function airtelClient(timeoutMs: number): ProviderClient {
  async function token(cfg: ProviderConfig, renew = false): Promise<string> {
    const key = `AIRTEL|${cfg.baseUrl}|${cfg.secrets.clientId}|${cfg.secrets.clientSecret}`;
    const cached = tokens.get(key);
    if (cached && !renew && cached.until > Date.now()) return cached.token;
    const { status, body } = await call(
      join(cfg.baseUrl, '/auth/oauth2/token'),
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: cfg.secrets.clientId, client_secret: cfg.secrets.clientSecret, grant_type: 'client_credentials' }),
      },
      timeoutMs,
    );
    const b = obj(body);
    if (status !== 200 || typeof b.access_token !== 'string') throw new ProviderRefused(`Airtel token: HTTP ${status} ${JSON.stringify(body)}`);
    const ttl = Number(b.expires_in ?? 60);
    tokens.set(key, { token: b.access_token, until: Date.now() + Math.max(5, ttl - 30) * 1000 });
    return b.access_token;
  }

  async function authed(cfg: ProviderConfig, path: string, init: RequestInit & { headers: Record<string, string> }) {
    let t = await token(cfg);
    const send = () =>
      call(join(cfg.baseUrl, path), { ...init, headers: { ...init.headers, authorization: `Bearer ${t}`, 'x-country': 'ZM', 'x-currency': 'ZMW' } }, timeoutMs);
    let r = await send();
    if (r.status === 401) {
      t = await token(cfg, true);
      r = await send();
    }
    return r;
  }

  return {
    async requestToPay(cfg, req) {
      const { status, body } = await authed(cfg, '/merchant/v1/payments/', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          reference: req.externalId,
          // Airtel wants the national number, without the country code.
          subscriber: { country: 'ZM', currency: 'ZMW', msisdn: req.msisdn.replace(/^260/, '') },
          transaction: { amount: Number(req.amount), country: 'ZM', currency: 'ZMW', id: req.reference },
        }),
      });
      const st = obj(obj(body).status);
      if (status === 200 && st.success === true) return;
      // ESB000041: the id was already used; the first request stands.
      if (status === 200 && st.result_code === 'ESB000041') return;
      throw new ProviderRefused(`Airtel payment: HTTP ${status} ${JSON.stringify(body)}`);
    },
    async status(cfg, reference) {
      const { status, body } = await authed(cfg, `/standard/v1/payments/${reference}`, { method: 'GET', headers: {} });
      if (status === 404) return { kind: 'UNKNOWN', raw: 'NOT_FOUND' };
      if (status !== 200) throw new ProviderUnavailable(`Airtel status: HTTP ${status}`);
      const tr = obj(obj(obj(body).data).transaction);
      const s = str(tr.status) ?? '';
      if (s === 'TS') return { kind: 'SUCCEEDED', raw: s, transactionId: str(tr.airtel_money_id) };
      if (s === 'TF') return { kind: 'FAILED', raw: s, reason: str(tr.message) ?? 'TF' };
      if (s === 'TE') return { kind: 'EXPIRED', raw: s, reason: 'EXPIRED' };
      // TIP in progress, TA ambiguous: keep polling.
      if (s === 'TIP' || s === 'TA') return { kind: 'PENDING', raw: s };
      throw new ProviderUnavailable(`Airtel status: unexpected status ${JSON.stringify(s)}`);
    },
  };
}

/** Constant-time comparison of two secrets of any length. */
export function sameSecret(a: string, b: string): boolean {
  const x = createHmac('sha256', 'cmp').update(a).digest();
  const y = createHmac('sha256', 'cmp').update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * Airtel's callback hash: base64 HMAC-SHA256 with the callback secret over the body without the
 * hash, re-serialised in Airtel's field order and without whitespace.
 */
export function airtelHashOk(secret: string, transaction: Record<string, unknown>, hash: unknown): boolean {
  if (typeof hash !== 'string') return false;
  const { id, message, status_code, airtel_money_id } = transaction;
  const canonical = JSON.stringify({ transaction: { id, message, status_code, airtel_money_id } });
  return sameSecret(createHmac('sha256', secret).update(canonical).digest('base64'), hash);
}

/** 260 and 9 digits, from +260..., 260..., 0... or the 9 digits alone; null when it is not a Zambian mobile number. */
export function normaliseMsisdn(input: string): string | null {
  const digits = input.replace(/[\s()-]/g, '').replace(/^\+/, '');
  if (/^260\d{9}$/.test(digits)) return digits;
  if (/^0\d{9}$/.test(digits)) return `260${digits.slice(1)}`;
  if (/^\d{9}$/.test(digits)) return `260${digits}`;
  return null;
}
