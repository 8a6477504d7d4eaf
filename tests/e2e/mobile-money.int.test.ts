import { randomUUID } from 'node:crypto';
import { tenantSchemaName } from '@umi/db';
import { addDays, dateInZone } from '@umi/kit';
import {
  AIRTEL_TEST_CALLBACK_SECRET,
  AIRTEL_TEST_CLIENT,
  airtelCallbackHash,
  MTN_TEST_ACCOUNT,
  startAirtelSimulator,
  startMtnSimulator,
  type AirtelSimulator,
  type MtnSimulator,
} from '@umi/simulators';
import { contractOperation as op, createTenant, createUser, ledgerBreaks, startTestPlatform, subscribe, type TenantFixture, type TestPlatform } from '@umi/testkit';

// Issue 12, "Mobile money", end to end: the gateway, the pos worker and real HTTP to the MTN and
// Airtel simulators, on ephemeral ports. A short payment window (4 s) and fast polling stand in
// for the 3 minutes and 5 s steps of production.

const TODAY = dateInZone('Africa/Lusaka');
const MTN_CALLBACK_SECRET = 'mtn-callback-secret-for-tests-0001';

type Gql = { errors?: { message: string; extensions?: Record<string, unknown> }[] };
const code = (r: Gql) => r.errors?.[0]?.extensions?.code;

interface SaleRow {
  id: string;
  status: string;
  paymentStatus: string;
  totalAmount: string;
  payments: { id: string; method: string; amount: string; status: string; providerReference: string | null; attempt: Attempt | null }[];
}
interface Attempt {
  id: string;
  provider: string;
  payerMsisdn: string;
  amount: string;
  state: string;
  providerStatus: string | null;
  providerTransactionId: string | null;
  reason: string | null;
}
const ATTEMPT = 'id provider payerMsisdn amount state providerStatus providerTransactionId reason';
const SALE = `id status paymentStatus totalAmount payments { id method amount status providerReference attempt { ${ATTEMPT} } }`;
const CREATE = `mutation($input: CreateSaleInput!) { createSale(input: $input) { ${SALE} } }`;
const READ = `query($id: ID!) { sale(id: $id) { ${SALE} } }`;
const CONFIGURE = `mutation($input: MobileMoneySettingsInput!) {
  configureMobileMoney(input: $input) { provider baseUrl environment callbackBaseUrl enabled hasCredentials hasCallbackSecret }
}`;

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

describe('mobile money (MTN MoMo, Airtel Money) through the gateway', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let br1: string;
  let schema: string;
  let cashier: { id: string; token: string };
  let session: string;
  let mtn: MtnSimulator;
  let airtel: AirtelSimulator;
  let product: string;
  let origin: string;

  async function onHand(): Promise<number> {
    const r = await p.ok<{ branch: { stock: { product: { id: string }; quantityOnHand: number }[] } }>(op('BranchStock'), { branchId: br1 }, { token: t.adminToken });
    return r.branch.stock.find((s) => s.product.id === product)?.quantityOnHand ?? 0;
  }

  const sell = (extra: Record<string, unknown>, key = randomUUID(), quantity = 1) =>
    p.gql<{ createSale: SaleRow }>(
      CREATE,
      { input: { branchId: br1, paymentMethod: 'MOBILE_MONEY', idempotencyKey: key, items: [{ productId: product, quantity }], tillSessionId: session, ...extra } },
      { token: cashier.token },
    );

  const read = async (id: string) => (await p.ok<{ sale: SaleRow }>(READ, { id }, { token: cashier.token })).sale;

  /** Polls the sale until its attempt is final (the worker decides; nothing here drives it). */
  async function settled(id: string, timeoutMs = 15_000): Promise<SaleRow> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sale = await read(id);
      const state = sale.payments[0]?.attempt?.state;
      // The sale and its attempt are read by separate statements: read again once the attempt is
      // final, so that the sale is read after the commit that finalised both.
      if (state && !['INITIATED', 'PENDING'].includes(state)) return read(id);
      if (Date.now() > deadline) throw new Error(`attempt still ${state} after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  const completedEvents = async (saleId: string) =>
    (await p.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE event_type = 'sale.completed' AND aggregate_id = $1`, [saleId])).rows[0]!.n;

  beforeAll(async () => {
    mtn = await startMtnSimulator({ payer: { afterMs: 100, lagMs: 300 } });
    airtel = await startAirtelSimulator({ payer: { afterMs: 100, lagMs: 300 } });
    p = await startTestPlatform({
      MOMO_PAYMENT_WINDOW_SECONDS: '4',
      MOMO_POLL_BASE_MS: '150',
      MOMO_POLL_MAX_MS: '500',
      MOMO_WORKER_TICK_MS: '100',
      MOMO_HTTP_TIMEOUT_MS: '3000',
      // Events travel through Redis streams when the machine has Redis, in process otherwise.
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    });
    origin = new URL(p.url).origin;
    airtel.control.setClient({ ...AIRTEL_TEST_CLIENT, callbackUrl: `${origin}/callbacks/airtel/${AIRTEL_TEST_CALLBACK_SECRET}`, callbackSecret: AIRTEL_TEST_CALLBACK_SECRET });
    t = await createTenant(p, { branchCount: 1 });
    br1 = t.branches[0]!.id;
    schema = tenantSchemaName(t.subdomain);
    cashier = await createUser(p, t, 'CASHIER', [br1]);
    const created = await p.ok<{ createProduct: { id: string } }>(
      op('CreateProduct'),
      { input: { sku: 'MOMO-1', name: 'Paracetamol 500mg', requiresPrescription: false, controlledSubstance: false, taxCategory: 'STANDARD' } },
      { token: t.adminToken },
    );
    product = created.createProduct.id;
    await p.ok(op('ReceiveStock'), { input: { branchId: br1, productId: product, batchNumber: 'MM-A', expiryDate: addDays(TODAY, 300), quantity: 500, costPrice: '5.00', sellingPrice: '25.00' } }, { token: t.adminToken });
    // Every sale is made in an open till session of its seller.
    const till = await p.ok<{ createTill: { id: string } }>(op('CreateTill'), { branchId: br1, name: 'Till MM' }, { token: t.adminToken });
    session = (await p.ok<{ openTill: { id: string } }>(op('OpenTill'), { input: { tillId: till.createTill.id, openingFloat: '0.00' } }, { token: cashier.token })).openTill.id;

    await p.ok(
      CONFIGURE,
      {
        input: {
          provider: 'MTN',
          baseUrl: mtn.url,
          environment: 'mtnzambia',
          apiUser: MTN_TEST_ACCOUNT.apiUser,
          apiKey: MTN_TEST_ACCOUNT.apiKey,
          subscriptionKey: MTN_TEST_ACCOUNT.subscriptionKey,
          callbackSecret: MTN_CALLBACK_SECRET,
          callbackBaseUrl: origin,
        },
      },
      { token: t.adminToken },
    );
    await p.ok(
      CONFIGURE,
      { input: { provider: 'AIRTEL', baseUrl: airtel.url, environment: 'staging', ...AIRTEL_TEST_CLIENT, callbackSecret: AIRTEL_TEST_CALLBACK_SECRET, callbackBaseUrl: origin } },
      { token: t.adminToken },
    );
  });
  afterAll(async () => {
    await p?.close();
    await Promise.all([mtn?.close(), airtel?.close()]);
  });
  afterEach(async () => {
    // Each batch's quantity on hand is the sum of its movements, whatever the payment became.
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
  });

  it('keeps providers\' secrets encrypted at rest and out of every answer; only an ADMIN configures them, audited', async () => {
    const shown = await p.ok<{ mobileMoneySettings: Record<string, unknown>[] }>(
      'query { mobileMoneySettings { provider baseUrl environment enabled hasCredentials hasCallbackSecret } }',
      {},
      { token: t.adminToken },
    );
    expect(shown.mobileMoneySettings).toEqual([
      { provider: 'AIRTEL', baseUrl: airtel.url, environment: 'staging', enabled: true, hasCredentials: true, hasCallbackSecret: true },
      { provider: 'MTN', baseUrl: mtn.url, environment: 'mtnzambia', enabled: true, hasCredentials: true, hasCallbackSecret: true },
    ]);
    const { rows } = await p.db.pool.query(`SELECT row_to_json(s)::text AS row FROM "${schema}".mobile_money_settings s`);
    const audit = await p.db.pool.query(`SELECT row_to_json(a)::text AS row FROM "${schema}".audit_logs a WHERE action = 'MOBILE_MONEY_CONFIGURED'`);
    expect(audit.rows).toHaveLength(2);
    for (const text of [...rows, ...audit.rows].map((r: { row: string }) => r.row)) {
      for (const secret of [MTN_TEST_ACCOUNT.apiKey, MTN_TEST_ACCOUNT.subscriptionKey, MTN_CALLBACK_SECRET, AIRTEL_TEST_CLIENT.clientSecret, AIRTEL_TEST_CALLBACK_SECRET]) {
        expect(text).not.toContain(secret);
      }
    }
    expect(code(await p.gql('query { mobileMoneySettings { provider } }', {}, { token: cashier.token }))).toBe('FORBIDDEN');
    const bad = await p.gql(CONFIGURE, { input: { provider: 'MTN', baseUrl: mtn.url, environment: 'x', callbackSecret: MTN_CALLBACK_SECRET } }, { token: t.adminToken });
    expect(code(bad)).toBe('BAD_USER_INPUT');
    expect(code(await p.gql(CONFIGURE, { input: { provider: 'AIRTEL', baseUrl: airtel.url, environment: 'x', ...AIRTEL_TEST_CLIENT, callbackSecret: AIRTEL_TEST_CALLBACK_SECRET } }, { token: cashier.token }))).toBe(
      'FORBIDDEN',
    );
  });

  it('MTN approve: PENDING_PAYMENT with its attempt at once, stock held, then COMPLETED by the provider\'s answer, told over paymentStatusChanged', async () => {
    const live = subscribe<{ paymentStatusChanged: { id: string; status: string; payments: { status: string; attempt: { state: string } | null }[] } }>(
      p.url,
      cashier.token,
      'subscription($b: ID) { paymentStatusChanged(branchId: $b) { id status payments { status attempt { state } } } }',
      { b: br1 },
    );
    await sleep(300);
    const before = await onHand();
    mtn.control.payer({ msisdn: '260971000001', outcome: 'approve', afterMs: 300, callback: 'once' });
    const r = await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '0971000001' });
    expect(r.errors).toBeUndefined();
    const sale = r.data!.createSale;
    expect(sale).toMatchObject({ status: 'PENDING_PAYMENT', paymentStatus: 'PENDING', totalAmount: '25.00' });
    expect(sale.payments[0]).toMatchObject({ method: 'MOBILE_MONEY', status: 'PENDING', attempt: { provider: 'MTN', payerMsisdn: '260971000001', amount: '25.00', state: 'INITIATED' } });
    expect(await onHand()).toBe(before - 1);

    const done = await settled(sale.id);
    expect(done).toMatchObject({ status: 'COMPLETED', paymentStatus: 'PAID' });
    const attempt = done.payments[0]!.attempt!;
    expect(attempt).toMatchObject({ state: 'SUCCEEDED', providerStatus: 'SUCCESSFUL' });
    expect(attempt.providerTransactionId).toMatch(/^\d{10}$/);
    expect(done.payments[0]).toMatchObject({ status: 'COMPLETED', providerReference: attempt.providerTransactionId });
    expect(await onHand()).toBe(before - 1);
    expect(await completedEvents(sale.id)).toBe(1);

    // What MTN received: one request to pay, our attempt's id as X-Reference-Id, the guide's fields.
    const sent = mtn.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/requesttopay'));
    const mine = sent.filter((q) => q.headers['x-reference-id'] === attempt.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.headers).toMatchObject({ 'x-target-environment': 'mtnzambia', 'ocp-apim-subscription-key': MTN_TEST_ACCOUNT.subscriptionKey });
    expect(mine[0]!.headers['x-callback-url']).toBe(`${origin}/callbacks/mtn/${MTN_CALLBACK_SECRET}?ref=${attempt.id}`);
    expect(mine[0]!.body).toMatchObject({ amount: '25.00', currency: 'ZMW', externalId: attempt.id, payer: { partyIdType: 'MSISDN', partyId: '260971000001' } });
    expect(mtn.payment(attempt.id)!.duplicates).toBe(0);

    // The till hears the outcome without polling: PENDING (sent), then COMPLETED with the attempt SUCCEEDED.
    await p.flushEvents();
    const deadline = Date.now() + 10_000;
    const mineOnly = () => live.events.filter((e) => e.paymentStatusChanged.id === sale.id);
    while (!mineOnly().some((e) => e.paymentStatusChanged.status === 'COMPLETED') && Date.now() < deadline) await sleep(50);
    expect(live.errors).toEqual([]);
    expect(mineOnly().at(-1)?.paymentStatusChanged).toEqual({ id: sale.id, status: 'COMPLETED', payments: [{ status: 'COMPLETED', attempt: { state: 'SUCCEEDED' } }] });
    await live.close();
  });

  it('MTN decline: the sale is VOIDED and its stock returned', async () => {
    const before = await onHand();
    mtn.control.payer({ msisdn: '260971000002', outcome: 'decline', afterMs: 100 });
    const sale = (await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '+260971000002' }, randomUUID(), 2)).data!.createSale;
    expect(await onHand()).toBe(before - 2);
    const done = await settled(sale.id);
    expect(done).toMatchObject({ status: 'VOIDED', payments: [{ status: 'FAILED', attempt: { state: 'FAILED', reason: 'APPROVAL_REJECTED' } }] });
    expect(await onHand()).toBe(before);
    expect(await completedEvents(sale.id)).toBe(0);
  });

  it('timeout: a payer who never answers EXPIRES the attempt at the end of the window; the sale is voided', async () => {
    const before = await onHand();
    mtn.control.payer({ msisdn: '260971000003', outcome: 'ignore' });
    const started = Date.now();
    const sale = (await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000003' })).data!.createSale;
    const done = await settled(sale.id, 15_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3500);
    expect(done).toMatchObject({ status: 'VOIDED', payments: [{ status: 'FAILED', attempt: { state: 'EXPIRED', providerStatus: 'PENDING', reason: 'EXPIRED' } }] });
    expect(await onHand()).toBe(before);
    // The poller asked more than once, further apart each time.
    const checks = mtn.requests.filter((q) => q.method === 'GET' && q.path.endsWith(done.payments[0]!.attempt!.id));
    expect(checks.length).toBeGreaterThanOrEqual(3);
  });

  it('lost callback: the poller alone finalises the payment', async () => {
    mtn.control.payer({ msisdn: '260971000004', outcome: 'approve', afterMs: 100, callback: 'never' });
    const sale = (await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000004' })).data!.createSale;
    const done = await settled(sale.id);
    expect(done).toMatchObject({ status: 'COMPLETED', paymentStatus: 'PAID' });
    const { rows } = await p.db.pool.query(`SELECT callbacks FROM "${schema}".payment_attempts WHERE sale_id = $1`, [sale.id]);
    expect(rows).toEqual([{ callbacks: 0 }]);
    expect(mtn.callbacks.filter((c) => c.paymentId === done.payments[0]!.attempt!.id)).toHaveLength(0);
  });

  it('duplicate and early callbacks are harmless: the status call decides, the sale completes once', async () => {
    mtn.control.payer({ msisdn: '260971000005', outcome: 'approve', afterMs: 100, callback: 'twice' });
    const twice = (await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000005' })).data!.createSale;
    mtn.control.payer({ msisdn: '260971000006', outcome: 'approve', afterMs: 100, callback: 'early' });
    const early = (await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000006' })).data!.createSale;
    for (const s of [twice, early]) expect(await settled(s.id)).toMatchObject({ status: 'COMPLETED', paymentStatus: 'PAID' });
    const id = (await read(twice.id)).payments[0]!.attempt!.id;
    const deadline = Date.now() + 5000;
    while (mtn.callbacks.filter((c) => c.paymentId === id).length < 2 && Date.now() < deadline) await sleep(50);
    await sleep(300);
    expect(mtn.callbacks.filter((c) => c.paymentId === id).map((c) => c.status)).toEqual([200, 200]);
    const { rows } = await p.db.pool.query(`SELECT callbacks FROM "${schema}".payment_attempts WHERE sale_id = $1`, [twice.id]);
    expect(rows).toEqual([{ callbacks: 2 }]);
    for (const s of [twice, early]) expect(await completedEvents(s.id)).toBe(1);
    const payments = await p.db.pool.query(`SELECT status FROM "${schema}".payments WHERE sale_id = ANY($1::uuid[])`, [[twice.id, early.id]]);
    expect(payments.rows).toEqual([{ status: 'COMPLETED' }, { status: 'COMPLETED' }]);
  });

  it('a client retry with the same key re-reads the same sale and attempt; payment is requested once', async () => {
    mtn.control.payer({ msisdn: '260971000007', outcome: 'approve', afterMs: 400 });
    const before = await onHand();
    const key = randomUUID();
    const [a, b] = await Promise.all([sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000007' }, key), sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000007' }, key)]);
    const c = await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000007' }, key);
    const ids = [a, b, c].map((r) => r.data!.createSale.id);
    expect(new Set(ids).size).toBe(1);
    const attempts = [a, b, c].map((r) => r.data!.createSale.payments[0]!.attempt!.id);
    expect(new Set(attempts).size).toBe(1);
    expect(await onHand()).toBe(before - 1);
    // Same key, another payer: not the same request.
    expect(code(await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000008' }, key))).toBe('CONFLICT');
    const done = await settled(ids[0]!);
    expect(done.status).toBe('COMPLETED');
    const again = await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000007' }, key);
    expect(again.data!.createSale).toMatchObject({ id: ids[0], status: 'COMPLETED', payments: [{ attempt: { id: attempts[0], state: 'SUCCEEDED' } }] });
    expect(mtn.requests.filter((q) => q.path.endsWith('/requesttopay') && q.headers['x-reference-id'] === attempts[0])).toHaveLength(1);
    expect(mtn.payment(attempts[0]!)!.duplicates).toBe(0);
  });

  it('a provider down (503) for the first send and slow afterwards: the worker retries the same reference, and the payment is requested once', async () => {
    mtn.control.payer({ msisdn: '260971000010', outcome: 'approve', afterMs: 100 });
    mtn.control.fail({ status: 503, method: 'POST', path: '/requesttopay', count: 1 });
    mtn.control.delay({ ms: 400, method: 'GET', path: '/requesttopay/', count: 2 });
    const sale = (await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000010' })).data!.createSale;
    const done = await settled(sale.id);
    expect(done).toMatchObject({ status: 'COMPLETED', paymentStatus: 'PAID' });
    const id = done.payments[0]!.attempt!.id;
    const posts = mtn.requests.filter((q) => q.method === 'POST' && q.headers['x-reference-id'] === id);
    // The first never reached the provider (503); the worker asked the status (404) before sending again.
    expect(posts.map((q) => (q.response && 'status' in q.response ? q.response.status : 'dropped'))).toEqual([503, 202]);
    expect(mtn.payment(id)!.duplicates).toBe(0);
    expect(await completedEvents(sale.id)).toBe(1);
  });

  it('Airtel approve with a signed callback; a callback with a wrong secret, a bad hash or an unknown reference is refused', async () => {
    airtel.control.payer({ msisdn: '260961000001', outcome: 'approve', afterMs: 150 });
    const sale = (await sell({ mobileMoneyProvider: 'AIRTEL', payerMsisdn: '0961000001' })).data!.createSale;
    const done = await settled(sale.id);
    expect(done).toMatchObject({ status: 'COMPLETED', paymentStatus: 'PAID', payments: [{ attempt: { provider: 'AIRTEL', state: 'SUCCEEDED', providerStatus: 'TS' } }] });
    const id = done.payments[0]!.attempt!.id;
    const push = airtel.requests.find((q) => q.path.startsWith('/merchant/v1/payments') && (q.body as { transaction: { id: string } }).transaction.id === id)!;
    expect(push.headers).toMatchObject({ 'x-country': 'ZM', 'x-currency': 'ZMW' });
    expect(push.body).toMatchObject({ subscriber: { country: 'ZM', msisdn: '961000001' }, transaction: { amount: 25, currency: 'ZMW', id } });

    const transaction = { id, message: 'Paid', status_code: 'TS', airtel_money_id: 'MP000000.0000.X00000' };
    const post = (path: string, body: unknown) => fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post(`/callbacks/airtel/${AIRTEL_TEST_CALLBACK_SECRET}`, { transaction, hash: airtelCallbackHash(AIRTEL_TEST_CALLBACK_SECRET, transaction) })).status).toBe(200);
    expect((await post(`/callbacks/airtel/${AIRTEL_TEST_CALLBACK_SECRET}`, { transaction, hash: airtelCallbackHash('another-secret-entirely', transaction) })).status).toBe(404);
    expect((await post(`/callbacks/airtel/not-the-secret-of-this-tenant`, { transaction, hash: airtelCallbackHash(AIRTEL_TEST_CALLBACK_SECRET, transaction) })).status).toBe(404);
    const unknown = { ...transaction, id: randomUUID() };
    expect((await post(`/callbacks/airtel/${AIRTEL_TEST_CALLBACK_SECRET}`, { transaction: unknown, hash: airtelCallbackHash(AIRTEL_TEST_CALLBACK_SECRET, unknown) })).status).toBe(404);
    expect((await post(`/callbacks/mtn/${MTN_CALLBACK_SECRET}?ref=${id}`, { status: 'SUCCESSFUL' })).status).toBe(404);
    // A late callback changes nothing.
    expect(await read(sale.id)).toEqual(done);
    expect(await completedEvents(sale.id)).toBe(1);
  });

  it('a provider not configured is BAD_USER_INPUT; a number that is not Zambian too; no sale is made', async () => {
    const before = await onHand();
    expect(code(await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '12345' }))).toBe('BAD_USER_INPUT');
    expect(code(await sell({ mobileMoneyProvider: 'MTN' }))).toBe('BAD_USER_INPUT');
    await p.ok(
      CONFIGURE,
      { input: { provider: 'AIRTEL', baseUrl: airtel.url, environment: 'staging', ...AIRTEL_TEST_CLIENT, callbackSecret: AIRTEL_TEST_CALLBACK_SECRET, callbackBaseUrl: origin, enabled: false } },
      { token: t.adminToken },
    );
    const off = await sell({ mobileMoneyProvider: 'AIRTEL', payerMsisdn: '0961000002' });
    expect(off.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'MOBILE_MONEY_NOT_CONFIGURED' });
    expect(await onHand()).toBe(before);
  });

  it('the day\'s reconciliation: no attempt left open, provider totals equal ours', async () => {
    mtn.control.payer({ msisdn: '260971000009', outcome: 'ignore' });
    const pending = (await sell({ mobileMoneyProvider: 'MTN', payerMsisdn: '260971000009' })).data!.createSale;
    const Q = `query($d: Date!, $b: ID) { mobileMoneyReconciliation(date: $d, branchId: $b) {
      date openAttempts { id state } providers { provider attempts providerSucceededCount providerSucceededAmount recordedCount recordedAmount difference failedCount expiredCount } } }`;
    const open = await p.ok<{ mobileMoneyReconciliation: { openAttempts: { id: string }[] } }>(Q, { d: TODAY, b: br1 }, { token: t.adminToken });
    expect(open.mobileMoneyReconciliation.openAttempts.map((a) => a.id)).toContain(pending.payments[0]!.attempt!.id);
    await settled(pending.id, 15_000);
    const r = await p.ok<{ mobileMoneyReconciliation: { openAttempts: unknown[]; providers: Record<string, unknown>[] } }>(Q, { d: TODAY, b: null }, { token: t.adminToken });
    expect(r.mobileMoneyReconciliation.openAttempts).toEqual([]);
    const { rows } = await p.db.pool.query<{ provider: string; n: number; ok: string }>(
      `SELECT provider, count(*)::int AS n, coalesce(sum(amount) FILTER (WHERE state = 'SUCCEEDED'), 0)::text AS ok FROM "${schema}".payment_attempts GROUP BY provider ORDER BY provider`,
    );
    expect(r.mobileMoneyReconciliation.providers.map((x) => [x.provider, x.attempts, x.providerSucceededAmount, x.difference])).toEqual(
      rows.map((x) => [x.provider, x.n, Number(x.ok).toFixed(2), '0.00']),
    );
    expect(r.mobileMoneyReconciliation.providers.find((x) => x.provider === 'MTN')).toMatchObject({ failedCount: 1, expiredCount: 2 });
    expect(code(await p.gql(Q, { d: TODAY }, { token: cashier.token }))).toBe('FORBIDDEN');
    // Nothing is pending any more: the seller's session may close.
    expect((await p.gql(op('CloseTill'), { input: { sessionId: session, countedCash: '0.00' } }, { token: cashier.token })).errors).toBeUndefined();
  });
});
