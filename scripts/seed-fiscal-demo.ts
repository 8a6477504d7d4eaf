import { DEMO_PASSWORDS } from './seed-demo';

/** Fiscal set-up of the demo tenant for `npm start`, through the public API like a portal. */

const DEMO_TPIN = '1002345678';

/** One request through the gateway; a rate-limit refusal waits and retries, as the demo seed does. */
async function gql<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  for (;;) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[] };
    const limited = body.errors?.find((e) => e.extensions?.code === 'TOO_MANY_REQUESTS');
    if (limited) {
      await new Promise((r) => setTimeout(r, (limited.extensions?.retryAfter ?? 1) * 1000));
      continue;
    }
    if (body.errors?.length || !body.data) throw new Error(`fiscal demo: ${body.errors?.map((e) => e.message).join('; ') ?? res.status}`);
    return body.data;
  }
}

/**
 * Points the demo tenant's branches at `vsdcUrl` (ZRA branch ids 000, 001, ...), sets its TPIN,
 * then makes one demo sale (the same one on every start: a fixed idempotency key) and waits for
 * the fiscal worker to fiscalise it. Returns its receipt text, or null when the VSDC did not answer
 * within `waitMs`.
 */
export async function seedFiscalDemo(url: string, vsdcUrl: string, waitMs = 15_000): Promise<{ saleNumber: string; receipt: string | null }> {
  const { login } = await gql<{ login: { accessToken: string } }>(
    url,
    'mutation($e: String!, $p: String!) { login(email: $e, password: $p, tenant: "demo") { accessToken } }',
    { e: 'admin@demo.umihealth.local', p: DEMO_PASSWORDS.admin },
  );
  const token = login.accessToken;
  await gql(url, 'mutation($t: String!) { updateFiscalSettings(input: { tpin: $t }) { tpin } }', { t: DEMO_TPIN }, token);
  const { branches } = await gql<{ branches: { id: string; code: string }[] }>(url, '{ branches { id code } }', {}, token);
  const sorted = [...branches].sort((a, b) => a.code.localeCompare(b.code));
  for (const [i, b] of sorted.entries()) {
    await gql(
      url,
      'mutation($i: FiscalDeviceInput!) { configureFiscalDevice(input: $i) { branchId } }',
      { i: { branchId: b.id, bhfId: String(i).padStart(3, '0'), deviceSerial: `UMI-DEMO-${b.code}`, vsdcUrl } },
      token,
    );
  }

  // One sale at the first branch, from a till session of the admin's.
  const branch = sorted[0]!;
  const { tills } = await gql<{ tills: { id: string; name: string; currentSession: { id: string; openedBy: { id: string } } | null }[] }>(
    url,
    'query($b: ID!) { tills(branchId: $b) { id name currentSession { id openedBy { id } } } }',
    { b: branch.id },
    token,
  );
  const { me } = await gql<{ me: { id: string } }>(url, '{ me { id } }', {}, token);
  let till = tills.find((t) => t.name === 'Demo till');
  if (!till) {
    const created = await gql<{ createTill: { id: string } }>(url, 'mutation($b: ID!) { createTill(branchId: $b, name: "Demo till") { id } }', { b: branch.id }, token);
    till = { id: created.createTill.id, name: 'Demo till', currentSession: null };
  }
  let sessionId = till.currentSession?.openedBy.id === me.id ? till.currentSession.id : null;
  if (!sessionId && !till.currentSession) {
    const opened = await gql<{ openTill: { id: string } }>(url, 'mutation($t: ID!) { openTill(input: { tillId: $t, openingFloat: "100.00" }) { id } }', { t: till.id }, token);
    sessionId = opened.openTill.id;
  }
  const { products } = await gql<{ products: { edges: { node: { id: string; sku: string } }[] } }>(url, '{ products(first: 50) { edges { node { id sku } } } }', {}, token);
  const pick = (sku: string) => products.edges.find((e) => e.node.sku === sku)!.node.id;
  const { createSale } = await gql<{ createSale: { id: string; saleNumber: string } }>(
    url,
    'mutation($i: CreateSaleInput!) { createSale(input: $i) { id saleNumber } }',
    {
      i: {
        branchId: branch.id,
        items: [{ productId: pick('PCM-500'), quantity: 2 }, { productId: pick('ORS-1L'), quantity: 3 }],
        paymentMethod: 'CASH',
        tendered: '50.00',
        idempotencyKey: 'demo-fiscal-sale-0001',
        tillSessionId: sessionId,
      },
    },
    token,
  );
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const { sale } = await gql<{ sale: { fiscal: { status: string }; receipt: { text: string } } }>(
      url,
      'query($id: ID!) { sale(id: $id) { fiscal { status } receipt { text } } }',
      { id: createSale.id },
      token,
    );
    if (sale.fiscal.status === 'FISCALISED') return { saleNumber: createSale.saleNumber, receipt: sale.receipt.text };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { saleNumber: createSale.saleNumber, receipt: null };
}
