import { randomUUID } from 'node:crypto';
import { MTN_TEST_ACCOUNT, startCallbackSink, startMtnSimulator, startVsdcSimulator, waitFor, type CallbackSink, type MtnSimulator, type VsdcSimulator } from './index';

const DEVICE = { tpin: '1000000009', bhfId: '000', dvcSrlNo: 'SIM-FAULTS' };

let vsdc: VsdcSimulator;
let mtn: MtnSimulator;
let sink: CallbackSink;
beforeAll(async () => {
  [vsdc, mtn, sink] = await Promise.all([startVsdcSimulator({ devices: [DEVICE] }), startMtnSimulator({ payer: { afterMs: 0 } }), startCallbackSink()]);
});
afterAll(() => Promise.all([vsdc.close(), mtn.close(), sink.close()]));
beforeEach(() => {
  vsdc.control.reset();
  mtn.control.reset();
  sink.received.length = 0;
});

const codes = (lastReqDt = '20180101000000') =>
  fetch(`${vsdc.url}/code/selectCodes`, { method: 'POST', body: JSON.stringify({ ...DEVICE, lastReqDt }) });
const control = async (target: { origin?: string; url: string }, body: unknown) => {
  const res = await fetch(`${target.origin ?? target.url}/__control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { ok: boolean; error?: string; issues?: string[] } };
};
async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = Date.now();
  const value = await run();
  return [value, Date.now() - start];
}

describe('slow answers', () => {
  it('delays the matching requests by ms, the next N of them', async () => {
    vsdc.control.delay({ ms: 300, count: 1 });
    const [slow, slowMs] = await timed(codes);
    const [, fastMs] = await timed(codes);
    expect(slow.status).toBe(200);
    expect(slowMs).toBeGreaterThanOrEqual(290);
    expect(fastMs).toBeLessThan(290);
    expect(vsdc.requests.map((r) => r.faults)).toEqual([['delay:300'], []]);
  });

  it('lets a client time out, and reset ends the wait', async () => {
    vsdc.control.delay({ ms: 60_000 });
    await expect(fetch(`${vsdc.url}/code/selectCodes`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) })).rejects.toThrow();
    vsdc.control.reset();
    expect((await codes()).status).toBe(200);
  });
});

describe('5xx and cut connections', () => {
  it('fails the next N calls with the status asked (default 503), then answers again', async () => {
    vsdc.control.fail({ count: 2 });
    vsdc.control.fail({ count: 1, status: 500, path: '/items/' });
    expect((await codes()).status).toBe(503);
    expect(await (await codes()).json()).toEqual({ error: 'simulated failure', status: 503 });
    const r = await codes();
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ resultCd: '000' });
    const items = await fetch(`${vsdc.url}/items/selectItems`, { method: 'POST', body: JSON.stringify({ ...DEVICE, lastReqDt: '20180101000000' }) });
    expect(items.status).toBe(500);
  });

  it('fails for a duration, then recovers by itself', async () => {
    vsdc.control.fail({ forMs: 200, status: 502 });
    expect((await codes()).status).toBe(502);
    await new Promise((r) => setTimeout(r, 250));
    expect((await codes()).status).toBe(200);
  });

  it('stays down until reset when neither a count nor a duration is given', async () => {
    vsdc.control.fail();
    for (let i = 0; i < 3; i++) expect((await codes()).status).toBe(503);
    vsdc.control.reset();
    expect((await codes()).status).toBe(200);
  });

  it('cuts the connection without an answer, recorded as dropped', async () => {
    vsdc.control.fail({ drop: true, count: 1 });
    await expect(codes()).rejects.toThrow();
    expect(vsdc.requests[0]).toMatchObject({ faults: ['drop'], response: { dropped: true } });
    expect((await codes()).status).toBe(200);
  });

  it('applies only to the method and path asked', async () => {
    mtn.control.fail({ method: 'GET', path: '/requesttopay', count: 5 });
    const bearer = await mtnToken();
    const ref = randomUUID();
    expect((await requestToPay(bearer, ref)).status).toBe(202);
    expect((await mtnStatus(bearer, ref)).status).toBe(503);
  });
});

describe('error result codes and canned answers', () => {
  it('makes the VSDC answer a result code on its endpoints only, for the next N calls', async () => {
    vsdc.control.resultCode({ code: '999', count: 1, path: '/code/selectCodes' });
    expect(await (await codes()).json()).toMatchObject({ resultCd: '999', resultMsg: 'Unknown error', data: null });
    expect(await (await codes()).json()).toMatchObject({ resultCd: '000' });
    vsdc.control.resultCode({ code: '894', message: 'An error occurred while communicating with the server' });
    expect(await (await codes()).json()).toMatchObject({ resultCd: '894', resultMsg: 'An error occurred while communicating with the server' });
  });

  it('answers any status and body for the next N calls', async () => {
    mtn.control.respond({ status: 500, body: { code: 'INTERNAL_PROCESSING_ERROR', message: 'An internal error occurred while processing.' }, count: 1, path: '/requesttopay' });
    const bearer = await mtnToken();
    const ref = randomUUID();
    const failed = await requestToPay(bearer, ref);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ code: 'INTERNAL_PROCESSING_ERROR', message: 'An internal error occurred while processing.' });
    expect(mtn.payment(ref)).toBeUndefined();
    expect((await requestToPay(bearer, ref)).status).toBe(202);
    await waitFor(() => sink.received.length === 1);
  });
});

describe('the control endpoint', () => {
  it('lists its actions and views, and serves the request log, the callbacks and the state', async () => {
    const listing = await (await fetch(`${mtn.url}/__control`)).json();
    expect(listing).toEqual({
      actions: expect.arrayContaining(['reset', 'delay', 'fail', 'respond', 'payer', 'settle', 'expireTokens', 'addAccount']),
      views: ['requests', 'callbacks', 'state'],
    });
    const bearer = await mtnToken();
    const ref = randomUUID();
    await requestToPay(bearer, ref);
    await waitFor(() => sink.received.length === 1);
    await waitFor(() => mtn.callbacks.length === 1);
    const requests = (await (await fetch(`${mtn.url}/__control/requests`)).json()) as { path: string; headers: Record<string, string>; body: unknown }[];
    expect(requests.map((r) => r.path)).toEqual(['/collection/token/', '/collection/v1_0/requesttopay']);
    expect(requests[1]).toMatchObject({ headers: { 'x-reference-id': ref, 'x-target-environment': 'mtnzambia' }, body: { amount: '10.00', externalId: 'faults' } });
    expect(await (await fetch(`${mtn.url}/__control/callbacks`)).json()).toEqual([expect.objectContaining({ paymentId: ref, status: 200, body: expect.objectContaining({ status: 'SUCCESSFUL' }) })]);
    expect(await (await fetch(`${mtn.url}/__control/state`)).json()).toMatchObject({ payments: [{ id: ref, status: 'SUCCESSFUL' }] });
    expect(await (await fetch(`${vsdc.origin}/__control/state`)).json()).toMatchObject({ devices: [{ tpin: DEVICE.tpin, sdcId: expect.any(String) }] });
    expect((await fetch(`${mtn.url}/__control/nothing`)).status).toBe(404);
  });

  it('runs the same switches over HTTP as in process, and says what is wrong with an input', async () => {
    expect(await control(vsdc, { action: 'fail', count: 1, status: 504 })).toEqual({ status: 200, body: { ok: true } });
    expect((await codes()).status).toBe(504);
    expect(await control(mtn, { action: 'payer', outcome: 'decline' })).toMatchObject({ status: 200 });
    const bearer = await mtnToken();
    const ref = randomUUID();
    await requestToPay(bearer, ref);
    await waitFor(() => mtn.payment(ref)?.status === 'FAILED');
    expect(await control(mtn, { action: 'payer', outcome: 'ignore' })).toMatchObject({ status: 200 });
    const pending = randomUUID();
    await requestToPay(bearer, pending);
    expect(await control(mtn, { action: 'settle', id: pending, outcome: 'approve' })).toEqual({ status: 200, body: { ok: true } });
    expect(mtn.payment(pending)?.status).toBe('SUCCESSFUL');

    expect(await control(mtn, { action: 'explode' })).toMatchObject({ status: 400, body: { ok: false, error: expect.stringContaining('unknown action explode') } });
    expect(await control(mtn, { action: 'delay', ms: -5 })).toMatchObject({ status: 400, body: { issues: [expect.stringContaining('ms:')] } });
    expect(await control(mtn, { action: 'payer', outcome: 'ambiguous' })).toMatchObject({ status: 400, body: { error: expect.stringContaining('MTN has no ambiguous status') } });
    expect(await control(mtn, { action: 'settle', id: 'nope', outcome: 'approve' })).toMatchObject({ status: 400, body: { error: 'no payment nope' } });
    expect(await control(vsdc, { action: 'registerDevice', tpin: '1000000002', bhfId: '001', dvcSrlNo: 'X' })).toMatchObject({ body: { ok: true, result: { sdcId: expect.stringMatching(/^SDC/) } } });
    const notJson = await fetch(`${vsdc.url.replace('/zravsdc', '')}/__control`, { method: 'POST', body: 'reset' });
    expect(notJson.status).toBe(400);
    expect(await control(vsdc, { action: 'reset' })).toMatchObject({ status: 200 });
    expect(vsdc.state().devices.map((d) => d.tpin)).toEqual([DEVICE.tpin]);
  });

  it('forgets faults, rules, records and payments on reset, and stops pending decisions and callbacks', async () => {
    mtn.control.payer({ afterMs: 200 });
    mtn.control.delay({ ms: 1 });
    const bearer = await mtnToken();
    const ref = randomUUID();
    await requestToPay(bearer, ref);
    mtn.control.reset();
    expect(mtn.requests).toHaveLength(0);
    expect(mtn.payments()).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.received).toHaveLength(0);
    expect(mtn.callbacks).toHaveLength(0);
    expect((await requestToPay(await mtnToken(), ref)).status).toBe(202);
    expect(mtn.requests.every((r) => r.faults.length === 0)).toBe(true);
  });
});

async function mtnToken(): Promise<string> {
  const res = await fetch(`${mtn.url}/collection/token/`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${MTN_TEST_ACCOUNT.apiUser}:${MTN_TEST_ACCOUNT.apiKey}`).toString('base64')}`, 'ocp-apim-subscription-key': MTN_TEST_ACCOUNT.subscriptionKey },
  });
  return ((await res.json()) as { access_token: string }).access_token;
}
const mtnHeaders = (bearer: string) => ({ authorization: `Bearer ${bearer}`, 'x-target-environment': 'mtnzambia', 'ocp-apim-subscription-key': MTN_TEST_ACCOUNT.subscriptionKey });
function requestToPay(bearer: string, referenceId: string) {
  return fetch(`${mtn.url}/collection/v1_0/requesttopay`, {
    method: 'POST',
    headers: { ...mtnHeaders(bearer), 'x-reference-id': referenceId, 'x-callback-url': `${sink.url}/cb`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount: '10.00', currency: 'ZMW', externalId: 'faults', payer: { partyIdType: 'MSISDN', partyId: '260961234567' } }),
  });
}
const mtnStatus = (bearer: string, referenceId: string) => fetch(`${mtn.url}/collection/v1_0/requesttopay/${referenceId}`, { headers: mtnHeaders(bearer) });
