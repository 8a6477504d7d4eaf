import { randomUUID } from 'node:crypto';
import { MTN_TEST_ACCOUNT, startCallbackSink, startMtnSimulator, waitFor, type CallbackSink, type MtnAccount, type MtnSimulator } from './index';

let sim: MtnSimulator;
let sink: CallbackSink;
beforeAll(async () => {
  [sim, sink] = await Promise.all([startMtnSimulator({ payer: { afterMs: 30, lagMs: 300 } }), startCallbackSink()]);
});
afterAll(() => Promise.all([sim.close(), sink.close()]));
beforeEach(() => {
  sim.control.reset();
  sink.received.length = 0;
  sink.answerWith(200);
});

async function token(account: MtnAccount = MTN_TEST_ACCOUNT, target: MtnSimulator = sim): Promise<string> {
  const res = await fetch(`${target.url}/collection/token/`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${account.apiUser}:${account.apiKey}`).toString('base64')}`, 'ocp-apim-subscription-key': account.subscriptionKey },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

const body = (overrides: Record<string, unknown> = {}) => ({
  amount: '125.50',
  currency: 'ZMW',
  externalId: 'UMI-SALE-000042',
  payer: { partyIdType: 'MSISDN', partyId: '260961234567' },
  payerMessage: 'Umi Pharmacy Cairo Road',
  payeeNote: 'Sale 000042',
  ...overrides,
});

async function requestToPay(options: { body?: unknown; headers?: Record<string, string | undefined>; referenceId?: string; bearer?: string; target?: MtnSimulator } = {}) {
  const target = options.target ?? sim;
  const referenceId = options.referenceId ?? randomUUID();
  const headers = Object.fromEntries(
    Object.entries({
      authorization: `Bearer ${options.bearer ?? (await token(MTN_TEST_ACCOUNT, target))}`,
      'x-reference-id': referenceId,
      'x-target-environment': 'mtnzambia',
      'ocp-apim-subscription-key': MTN_TEST_ACCOUNT.subscriptionKey,
      'x-callback-url': `${sink.url}/momo/mtn/callback?secret=s3cr3t`,
      'content-type': 'application/json',
      ...options.headers,
    }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const res = await fetch(`${target.url}/collection/v1_0/requesttopay`, { method: 'POST', headers, body: JSON.stringify(options.body ?? body()) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as { code: string; message: string }) : undefined, referenceId };
}

async function status(referenceId: string, account: MtnAccount = MTN_TEST_ACCOUNT) {
  const res = await fetch(`${sim.url}/collection/v1_0/requesttopay/${referenceId}`, {
    headers: { authorization: `Bearer ${await token(account)}`, 'x-target-environment': 'mtnzambia', 'ocp-apim-subscription-key': account.subscriptionKey },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const settled = (referenceId: string) => waitForStatus(referenceId, (s) => s !== 'PENDING');
async function waitForStatus(referenceId: string, done: (status: unknown) => boolean) {
  const deadline = Date.now() + 3000;
  for (;;) {
    const r = await status(referenceId);
    if (done(r.body.status)) return r;
    if (Date.now() > deadline) throw new Error(`still ${String(r.body.status)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('tokens', () => {
  it('issues short-lived bearer tokens against the API user and key, with the subscription key', async () => {
    const res = await fetch(`${sim.url}/collection/token/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${MTN_TEST_ACCOUNT.apiUser}:${MTN_TEST_ACCOUNT.apiKey}`).toString('base64')}`, 'ocp-apim-subscription-key': MTN_TEST_ACCOUNT.subscriptionKey },
    });
    const t = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(t).toMatchObject({ token_type: 'access_token', expires_in: 3600 });
    expect(t.access_token.split('.')).toHaveLength(3);

    const wrongKey = await fetch(`${sim.url}/collection/token/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${MTN_TEST_ACCOUNT.apiUser}:nope`).toString('base64')}`, 'ocp-apim-subscription-key': MTN_TEST_ACCOUNT.subscriptionKey },
    });
    expect(wrongKey.status).toBe(401);
    expect(await wrongKey.json()).toEqual({ error: 'login_failed' });
    const noSubscription = await fetch(`${sim.url}/collection/token/`, { method: 'POST', headers: { authorization: 'Basic eDp5' } });
    expect(noSubscription.status).toBe(401);
    expect(await noSubscription.json()).toMatchObject({ statusCode: 401, message: expect.stringContaining('invalid subscription key') });
  });

  it('stops honouring a token when it expires (or when told), and the client must take a new one', async () => {
    const shortLived = await startMtnSimulator({ tokenTtlSeconds: 1 });
    try {
      const bearer = await token(MTN_TEST_ACCOUNT, shortLived);
      expect((await requestToPay({ target: shortLived, bearer })).status).toBe(202);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await requestToPay({ target: shortLived, bearer })).status).toBe(401);
    } finally {
      await shortLived.close();
    }
    const bearer = await token();
    sim.control.expireTokens();
    expect((await requestToPay({ bearer })).body).toMatchObject({ message: expect.stringContaining('expired access token') });
  });
});

describe('request to pay', () => {
  it('approves: 202, PENDING, then SUCCESSFUL with a financial transaction id, and one callback with the same body', async () => {
    sim.control.payer({ outcome: 'ignore' });
    const r = await requestToPay();
    expect(r).toMatchObject({ status: 202, body: undefined });
    expect((await status(r.referenceId)).body).toEqual({ ...body(), status: 'PENDING' });
    sim.control.settle({ id: r.referenceId, outcome: 'approve' });
    const done = await waitForStatus(r.referenceId, (s) => s === 'SUCCESSFUL');
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ ...body(), status: 'SUCCESSFUL', financialTransactionId: expect.stringMatching(/^\d{10}$/) });
    const [callback] = await waitFor(() => sink.received.length === 1 && sink.received);
    expect(callback).toMatchObject({ method: 'PUT', path: '/momo/mtn/callback?secret=s3cr3t', body: done.body });
    await new Promise((res) => setTimeout(res, 150));
    expect(sink.received).toHaveLength(1);
    expect(sim.callbacks).toEqual([expect.objectContaining({ paymentId: r.referenceId, method: 'PUT', status: 200 })]);
  });

  it('approves after the payer takes the time a rule gives', async () => {
    sim.control.payer({ afterMs: 250 });
    const r = await requestToPay();
    expect((await settled(r.referenceId)).body.status).toBe('SUCCESSFUL');
    const p = sim.payment(r.referenceId)!;
    expect(Date.parse(p.decidedAt!) - Date.parse(p.createdAt)).toBeGreaterThanOrEqual(250);
    await waitFor(() => sink.received.length === 1);
  });

  it('declines: FAILED with APPROVAL_REJECTED, still HTTP 200, callback once', async () => {
    sim.control.payer({ msisdn: '260961234567', outcome: 'decline' });
    const r = await requestToPay();
    const done = await settled(r.referenceId);
    expect(done).toMatchObject({ status: 200, body: { status: 'FAILED', reason: 'APPROVAL_REJECTED' } });
    expect(done.body.financialTransactionId).toBeUndefined();
    await waitFor(() => sink.received.length === 1);
    expect(sink.received[0]!.body).toMatchObject({ status: 'FAILED', reason: 'APPROVAL_REJECTED', externalId: 'UMI-SALE-000042' });
  });

  it('fails with the reason a rule gives, for that payer only', async () => {
    sim.control.payer({ msisdn: '0971111111', outcome: 'fail', reason: 'NOT_ENOUGH_FUNDS' });
    const poor = await requestToPay({ body: body({ payer: { partyIdType: 'MSISDN', partyId: '260971111111' } }) });
    const other = await requestToPay();
    expect((await settled(poor.referenceId)).body).toMatchObject({ status: 'FAILED', reason: 'NOT_ENOUGH_FUNDS' });
    expect((await settled(other.referenceId)).body).toMatchObject({ status: 'SUCCESSFUL' });
  });

  it('times out: a payer who never answers stays PENDING with no callback, until the provider expires it', async () => {
    sim.control.payer({ outcome: 'ignore' });
    const r = await requestToPay();
    await new Promise((res) => setTimeout(res, 120));
    expect((await status(r.referenceId)).body.status).toBe('PENDING');
    expect(sink.received).toHaveLength(0);
    sim.control.settle({ id: r.referenceId, outcome: 'expire' });
    expect((await status(r.referenceId)).body).toMatchObject({ status: 'FAILED', reason: 'EXPIRED' });
    await waitFor(() => sink.received.length === 1);
    expect(() => sim.control.settle({ id: r.referenceId, outcome: 'approve' })).toThrow('already final');

    const expiring = await startMtnSimulator({ payer: { outcome: 'ignore' }, expireAfterMs: 80 });
    try {
      const e = await requestToPay({ target: expiring });
      await waitFor(() => expiring.payment(e.referenceId)?.status === 'FAILED');
      expect(expiring.payment(e.referenceId)).toMatchObject({ reason: 'EXPIRED' });
      await waitFor(() => sink.received.length === 2);
      expect(sink.received[1]!.body).toMatchObject({ status: 'FAILED', reason: 'EXPIRED' });
    } finally {
      await expiring.close();
    }
  });

  it('refuses a repeated X-Reference-Id with 409 and counts it, without a second payment or callback', async () => {
    const first = await requestToPay();
    const again = await requestToPay({ referenceId: first.referenceId, body: body({ amount: '999.00' }) });
    expect(again).toMatchObject({ status: 409, body: { code: 'RESOURCE_ALREADY_EXIST', message: 'Duplicated reference id. Creation for resource failed.' } });
    expect(sim.payment(first.referenceId)).toMatchObject({ duplicates: 1, request: { amount: '125.50' } });
    await settled(first.referenceId);
    await waitFor(() => sink.received.length === 1);
    await new Promise((res) => setTimeout(res, 100));
    expect(sink.received).toHaveLength(1);
    expect(sim.payments()).toHaveLength(1);
  });

  it('answers 404 for an unknown reference, and to another account for this one', async () => {
    const r = await requestToPay();
    expect(await status(randomUUID())).toEqual({ status: 404, body: { code: 'RESOURCE_NOT_FOUND', message: 'Requested resource was not found.' } });
    const other: MtnAccount = { apiUser: randomUUID(), apiKey: 'other-key', subscriptionKey: 'other-subscription' };
    sim.control.addAccount(other);
    expect((await status(r.referenceId, other)).status).toBe(404);
    expect((await status(r.referenceId)).status).toBe(200);
  });

  it('checks the headers and the body field by field', async () => {
    const cases: [Parameters<typeof requestToPay>[0], number, string][] = [
      [{ headers: { 'ocp-apim-subscription-key': undefined } }, 401, 'invalid subscription key'],
      [{ bearer: 'not-a-token' }, 401, 'invalid or expired access token'],
      [{ headers: { 'x-target-environment': 'sandbox' } }, 403, 'NOT_ALLOWED_TARGET_ENVIRONMENT'],
      [{ referenceId: 'sale-42' }, 400, 'X-Reference-Id must be a UUID version 4'],
      [{ referenceId: '6f1c3a54-3c2e-11ef-9a5c-0242ac120002' }, 400, 'X-Reference-Id must be a UUID version 4'],
      [{ headers: { 'x-callback-url': 'not a url' } }, 400, 'INVALID_CALLBACK_URL_HOST'],
      [{ body: body({ amount: 125.5 }) }, 400, 'amount: '],
      [{ body: body({ amount: '0' }) }, 400, 'amount: must be more than 0'],
      [{ body: body({ amount: '12.345' }) }, 400, 'amount: must be a decimal string'],
      [{ body: body({ currency: 'EUR' }) }, 400, 'INVALID_CURRENCY'],
      [{ body: body({ externalId: '' }) }, 400, 'externalId: is required'],
      [{ body: body({ payer: { partyIdType: 'EMAIL', partyId: 'a@b.zm' } }) }, 400, 'payer.partyIdType: the simulator takes MSISDN payers only'],
      [{ body: body({ payer: { partyIdType: 'MSISDN', partyId: '0961234567' } }) }, 400, 'payer.partyId: must be an MSISDN: 260 and 9 digits'],
      [{ body: body({ payerMessage: 'x'.repeat(161) }) }, 400, 'payerMessage'],
    ];
    for (const [options, httpStatus, text] of cases) {
      const r = await requestToPay(options);
      expect({ text, status: r.status, body: JSON.stringify(r.body) }).toEqual({ text, status: httpStatus, body: expect.stringContaining(text) });
    }
    expect(sim.payments()).toHaveLength(0);
  });
});

describe('callbacks', () => {
  it('never comes, and the status alone tells', async () => {
    sim.control.payer({ callback: 'never' });
    const r = await requestToPay();
    expect((await settled(r.referenceId)).body.status).toBe('SUCCESSFUL');
    await new Promise((res) => setTimeout(res, 100));
    expect(sink.received).toHaveLength(0);
  });

  it('comes twice, the same body both times', async () => {
    sim.control.payer({ callback: 'twice' });
    const r = await requestToPay();
    await waitFor(() => sink.received.length === 2);
    expect(sink.received[0]!.body).toEqual(sink.received[1]!.body);
    expect(sim.payment(r.referenceId)!.callbacksSent).toBe(2);
  });

  it('comes before the status changes: the status call answers PENDING for lagMs more', async () => {
    sim.control.payer({ callback: 'early', lagMs: 1000 });
    const r = await requestToPay();
    await waitFor(() => sink.received.length === 1);
    expect(sink.received[0]!.body).toMatchObject({ status: 'SUCCESSFUL' });
    expect((await status(r.referenceId)).body).toEqual({ ...body(), status: 'PENDING' });
    expect((await waitForStatus(r.referenceId, (s) => s === 'SUCCESSFUL')).body.financialTransactionId).toMatch(/^\d{10}$/);
  });

  it('is sent once and never retried, even when the platform answers 500 or cannot be reached', async () => {
    sink.answerWith(500);
    await requestToPay();
    await waitFor(() => sim.callbacks.length === 1);
    expect(sim.callbacks[0]).toMatchObject({ status: 500 });
    const unreachable = await requestToPay({ headers: { 'x-callback-url': 'http://127.0.0.1:1/callback' } });
    await waitFor(() => sim.callbacks.length === 2);
    expect(sim.callbacks[1]).toMatchObject({ paymentId: unreachable.referenceId, error: expect.any(String) });
    await new Promise((res) => setTimeout(res, 100));
    expect(sim.callbacks).toHaveLength(2);
    expect(sink.received).toHaveLength(1);
  });

  it('is not sent without X-Callback-Url, and goes by POST when configured so', async () => {
    const r = await requestToPay({ headers: { 'x-callback-url': undefined } });
    expect((await settled(r.referenceId)).body.status).toBe('SUCCESSFUL');
    await new Promise((res) => setTimeout(res, 60));
    expect(sim.callbacks).toHaveLength(0);
    const posting = await startMtnSimulator({ payer: { afterMs: 0 }, callbackMethod: 'POST' });
    try {
      await requestToPay({ target: posting });
      await waitFor(() => sink.received.length === 1);
      expect(sink.received[0]!.method).toBe('POST');
    } finally {
      await posting.close();
    }
  });
});
