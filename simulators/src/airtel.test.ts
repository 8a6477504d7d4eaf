import { createHmac, randomUUID } from 'node:crypto';
import {
  AIRTEL_TEST_CALLBACK_SECRET,
  AIRTEL_TEST_CLIENT,
  airtelCallbackHash,
  startAirtelSimulator,
  startCallbackSink,
  waitFor,
  type AirtelSimulator,
  type CallbackSink,
} from './index';

let sim: AirtelSimulator;
let sink: CallbackSink;
beforeAll(async () => {
  sink = await startCallbackSink();
  sim = await startAirtelSimulator({ callbackUrl: `${sink.url}/momo/airtel/callback`, payer: { afterMs: 30, lagMs: 300 } });
});
afterAll(() => Promise.all([sim.close(), sink.close()]));
beforeEach(() => {
  sim.control.reset();
  sink.received.length = 0;
});

interface Envelope {
  data: { transaction?: { id?: string; status?: string; message?: string; airtel_money_id?: string | null } };
  status: { code: string; message: string; result_code: string; response_code?: string; success: boolean };
}

async function token(client: { clientId: string; clientSecret: string } = AIRTEL_TEST_CLIENT, target: AirtelSimulator = sim) {
  const res = await fetch(`${target.url}/auth/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret, grant_type: 'client_credentials' }),
  });
  return { status: res.status, body: (await res.json()) as { access_token: string; expires_in: string; token_type: string } };
}

async function api(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}, target: AirtelSimulator = sim) {
  const bearer = (await token(AIRTEL_TEST_CLIENT, target)).body.access_token;
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'x-country': 'ZM', 'x-currency': 'ZMW', 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Envelope };
}

const payment = (id: string, overrides: Record<string, unknown> = {}) => ({
  reference: 'Umi sale 000042',
  subscriber: { country: 'ZM', currency: 'ZMW', msisdn: '971234567' },
  transaction: { amount: 125.5, country: 'ZM', currency: 'ZMW', id },
  ...overrides,
});
const pay = (id: string = randomUUID(), overrides: Record<string, unknown> = {}, headers?: Record<string, string>) => api('POST', '/merchant/v1/payments/', payment(id, overrides), headers).then((r) => ({ ...r, id }));
const enquire = (id: string) => api('GET', `/standard/v1/payments/${id}`);
async function final(id: string) {
  const deadline = Date.now() + 3000;
  for (;;) {
    const r = await enquire(id);
    if (!['TIP', 'TA'].includes(r.body.data.transaction?.status ?? '')) return r;
    if (Date.now() > deadline) throw new Error(`still ${r.body.data.transaction?.status}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('tokens', () => {
  it('issues 180-second bearer tokens for the client credentials', async () => {
    const ok = await token();
    expect(ok).toMatchObject({ status: 200, body: { expires_in: '180', token_type: 'bearer' } });
    expect(ok.body.access_token.length).toBeGreaterThan(20);
    expect(await token({ clientId: AIRTEL_TEST_CLIENT.clientId, clientSecret: 'wrong' })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const bearer = ok.body.access_token;
    sim.control.expireTokens();
    const res = await fetch(`${sim.url}/standard/v1/payments/x`, { headers: { authorization: `Bearer ${bearer}`, 'x-country': 'ZM', 'x-currency': 'ZMW' } });
    expect(res.status).toBe(401);
  });
});

describe('USSD push and status', () => {
  it('TS: accepted in progress, then successful with an Airtel Money id, and one signed callback', async () => {
    sim.control.payer({ outcome: 'ignore' });
    const r = await pay();
    expect(r.body).toEqual({
      data: { transaction: { id: r.id, status: 'Success.' } },
      status: { code: '200', message: 'SUCCESS', result_code: 'ESB000010', response_code: 'DP00800001006', success: true },
    });
    expect((await enquire(r.id)).body.data.transaction).toEqual({ airtel_money_id: null, id: r.id, message: 'Transaction in progress', status: 'TIP' });
    sim.control.settle({ id: r.id, outcome: 'approve' });
    const done = await final(r.id);
    expect(done.body.status).toMatchObject({ result_code: 'ESB000010', response_code: 'DP00800001001', success: true });
    const tx = done.body.data.transaction!;
    expect(tx).toMatchObject({ id: r.id, status: 'TS' });
    expect(tx.airtel_money_id).toMatch(/^MP\d{6}\.\d{4}\.[A-Z]\d{5}$/);

    const [callback] = await waitFor(() => sink.received.length === 1 && sink.received);
    const sent = callback!.body as { transaction: { id: string; message: string; status_code: string; airtel_money_id: string }; hash: string };
    expect(callback).toMatchObject({ method: 'POST', path: '/momo/airtel/callback' });
    expect(sent.transaction).toEqual({ id: r.id, message: tx.message, status_code: 'TS', airtel_money_id: tx.airtel_money_id });
    const expected = createHmac('sha256', AIRTEL_TEST_CALLBACK_SECRET).update(JSON.stringify({ transaction: sent.transaction })).digest('base64');
    expect(sent.hash).toBe(expected);
    expect(airtelCallbackHash(AIRTEL_TEST_CALLBACK_SECRET, sent.transaction)).toBe(expected);
    expect(airtelCallbackHash('another secret', sent.transaction)).not.toBe(expected);
  });

  it('approves after the payer takes the time a rule gives', async () => {
    sim.control.payer({ afterMs: 250 });
    const r = await pay();
    expect((await final(r.id)).body.data.transaction?.status).toBe('TS');
    const p = sim.payment(r.id)!;
    expect(Date.parse(p.decidedAt!) - Date.parse(p.createdAt)).toBeGreaterThanOrEqual(250);
    await waitFor(() => sink.received.length === 1);
  });

  it('TF: a declined payment, or one failed for a reason such as a wrong PIN', async () => {
    sim.control.payer({ msisdn: '260971234567', outcome: 'decline' });
    const declined = await pay();
    expect((await final(declined.id)).body).toMatchObject({ data: { transaction: { status: 'TF' } }, status: { response_code: 'DP00800001008' } });
    sim.control.payer({ msisdn: '971234567', outcome: 'fail', reason: 'INCORRECT_PIN' });
    const wrongPin = await pay();
    expect((await final(wrongPin.id)).body).toMatchObject({ data: { transaction: { status: 'TF', message: 'Incorrect pin has been entered' } }, status: { response_code: 'DP00800001002' } });
    await waitFor(() => sink.received.length === 2);
    expect(sink.received.map((c) => (c.body as { transaction: { status_code: string } }).transaction.status_code)).toEqual(['TF', 'TF']);
  });

  it('TIP stays while the payer does not answer; TE when the provider expires it', async () => {
    sim.control.payer({ outcome: 'ignore' });
    const r = await pay();
    await new Promise((res) => setTimeout(res, 100));
    expect((await enquire(r.id)).body.data.transaction?.status).toBe('TIP');
    expect(sink.received).toHaveLength(0);

    const expiring = await startAirtelSimulator({ callbackUrl: `${sink.url}/cb`, payer: { outcome: 'ignore' }, expireAfterMs: 80 });
    try {
      const e = await api('POST', '/merchant/v1/payments/', payment('exp-1'), {}, expiring);
      expect(e.body.status.success).toBe(true);
      await waitFor(() => sink.received.length === 1);
      expect(sink.received[0]!.body).toMatchObject({ transaction: { id: 'exp-1', status_code: 'TE' } });
      expect((await api('GET', '/standard/v1/payments/exp-1', undefined, {}, expiring)).body).toMatchObject({ data: { transaction: { status: 'TE' } }, status: { response_code: 'DP00800001024' } });
    } finally {
      await expiring.close();
    }
  });

  it('TA: ambiguous, no callback, until it is settled', async () => {
    sim.control.payer({ outcome: 'ambiguous' });
    const r = await pay();
    await waitFor(() => sim.payment(r.id)?.status === 'TA');
    expect((await enquire(r.id)).body).toMatchObject({ data: { transaction: { status: 'TA', airtel_money_id: null } }, status: { response_code: 'DP00800001000' } });
    await new Promise((res) => setTimeout(res, 60));
    expect(sink.received).toHaveLength(0);
    sim.control.settle({ id: r.id, outcome: 'approve' });
    expect((await enquire(r.id)).body.data.transaction?.status).toBe('TS');
    await waitFor(() => sink.received.length === 1);
  });

  it('refuses a repeated transaction id (counted), an unknown one, and another client reading it', async () => {
    const r = await pay('UMI-PAY-1');
    const again = await pay('UMI-PAY-1', { transaction: { amount: 1, country: 'ZM', currency: 'ZMW', id: 'UMI-PAY-1' } });
    expect(again.body.status).toMatchObject({ result_code: 'ESB000041', success: false });
    expect(sim.payment(r.id)).toMatchObject({ duplicates: 1, request: { transaction: { amount: 125.5 } } });
    expect(await enquire('nope')).toMatchObject({ status: 404, body: { status: { result_code: 'ESB000045', success: false } } });
    sim.control.setClient({ clientId: 'other', clientSecret: 'other-secret' });
    const bearer = (await token({ clientId: 'other', clientSecret: 'other-secret' })).body.access_token;
    const res = await fetch(`${sim.url}/standard/v1/payments/${r.id}`, { headers: { authorization: `Bearer ${bearer}`, 'x-country': 'ZM', 'x-currency': 'ZMW' } });
    expect(res.status).toBe(404);
  });

  it('checks the headers and the body field by field', async () => {
    const cases: [Record<string, unknown>, Record<string, string>, string, string][] = [
      [{ subscriber: { country: 'ZM', currency: 'ZMW', msisdn: '260971234567' } }, {}, 'ESB000033', 'without the country code'],
      [{ subscriber: { country: 'ZM', currency: 'ZMW', msisdn: '97-123-456' } }, {}, 'ESB000008', 'subscriber.msisdn: digits only'],
      [{}, { 'x-country': 'UG' }, 'ESB000034', 'X-Country must be ZM'],
      [{}, { 'x-currency': 'USD' }, 'ESB000035', 'X-Currency must be ZMW'],
      [{ transaction: { amount: 0, country: 'ZM', currency: 'ZMW', id: 'a' } }, {}, 'ESB000008', 'transaction.amount: must be more than 0'],
      [{ transaction: { amount: 10.005, country: 'ZM', currency: 'ZMW', id: 'a' } }, {}, 'ESB000008', 'at most 2 decimals'],
      [{ transaction: { amount: 10, country: 'ZM', currency: 'UGX', id: 'a' } }, {}, 'ESB000008', 'transaction.currency: must be ZMW'],
      [{ subscriber: { country: 'KE', msisdn: '971234567' } }, {}, 'ESB000008', 'subscriber.country: must be ZM'],
      [{ reference: '' }, {}, 'ESB000008', 'reference: is required'],
    ];
    for (const [overrides, headers, resultCode, text] of cases) {
      const r = await pay(randomUUID(), overrides, headers);
      expect({ text, status: r.status, result: r.body.status.result_code, success: r.body.status.success, message: r.body.status.message }).toEqual({
        text,
        status: 400,
        result: resultCode,
        success: false,
        message: expect.stringContaining(text),
      });
    }
    expect(sim.payments()).toHaveLength(0);
  });
});

describe('callbacks', () => {
  it('come twice, never, or before the status changes', async () => {
    sim.control.payer({ callback: 'twice' });
    await pay();
    await waitFor(() => sink.received.length === 2);
    expect(sink.received[0]!.body).toEqual(sink.received[1]!.body);

    sim.control.payer({ callback: 'never' });
    const silent = await pay();
    expect((await final(silent.id)).body.data.transaction?.status).toBe('TS');

    sim.control.payer({ callback: 'early', lagMs: 1000 });
    const early = await pay();
    await waitFor(() => sink.received.length === 3);
    expect(sink.received[2]!.body).toMatchObject({ transaction: { id: early.id, status_code: 'TS' } });
    expect((await enquire(early.id)).body.data.transaction).toMatchObject({ status: 'TIP', airtel_money_id: null });
    expect((await final(early.id)).body.data.transaction?.status).toBe('TS');
  });

  it('are unsigned when the client has no callback secret, and go where the client says', async () => {
    const other = await startCallbackSink();
    try {
      sim.control.setClient({ ...AIRTEL_TEST_CLIENT, callbackUrl: `${other.url}/elsewhere`, callbackSecret: null });
      await pay();
      await waitFor(() => other.received.length === 1);
      expect(other.received[0]!.body).not.toHaveProperty('hash');
      expect(sink.received).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

describe('refund', () => {
  it('refunds a successful payment once, by its Airtel Money id', async () => {
    const r = await pay();
    const airtelId = (await final(r.id)).body.data.transaction!.airtel_money_id!;
    const refund = (id: string) => api('POST', '/standard/v2/payments/refund', { transaction: { airtel_money_id: id } });
    expect((await refund(airtelId)).body).toEqual({
      data: { transaction: { airtel_money_id: airtelId, status: 'SUCCESS' } },
      status: { code: '200', message: 'SUCCESS', result_code: 'ESB000010', success: true },
    });
    expect(sim.payment(r.id)!.refundedAt).toEqual(expect.any(String));
    expect((await refund(airtelId)).body.status).toMatchObject({ result_code: 'ESB000011', success: false, message: expect.stringContaining('already refunded') });
    expect((await refund('MP000000.0000.X00000')).body.status).toMatchObject({ result_code: 'ESB000045', success: false });

    sim.control.payer({ outcome: 'decline' });
    const failed = await pay();
    const failedId = (await final(failed.id)).body.data.transaction!.airtel_money_id!;
    expect((await refund(failedId)).body.status).toMatchObject({ success: false, message: expect.stringContaining('only a successful payment can be refunded') });
    expect((await api('POST', '/standard/v2/payments/refund', { transaction: {} })).body.status).toMatchObject({ result_code: 'ESB000008' });
  });
});
