/**
 * Issue 13, "Ambiguous answers": a client can always tell what happened to its change. A subgraph
 * that is down is SERVICE_UNAVAILABLE (never a masked internal error); a sale whose answer needed a
 * lookup that failed after the commit is OUTCOME_UNKNOWN, and a retry with the same idempotency key
 * answers the committed sale, once.
 */
import { randomUUID } from 'node:crypto';
import { addDays, dateInZone } from '@umi/kit';
import { contractOperation as op, createTenant, openTillSession, startTestPlatform, type GqlResult, type TenantFixture, type TestPlatform } from '@umi/testkit';

describe('ambiguous answers', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let branchId: string;
  let productId: string;

  const sale = (idempotencyKey: string) =>
    p.gql<{ createSale: { id: string; saleNumber: string } | null }>(
      op('CreateSale'),
      { input: { branchId, paymentMethod: 'CASH', idempotencyKey, items: [{ productId, quantity: 1 }] } },
      { token: t.adminToken },
    );
  /** The branch's sales, read from pos alone (it stays up while another subgraph is down). */
  const committed = async () =>
    (await p.ok<{ sales: { edges: { node: { id: string; saleNumber: string } }[] } }>(
      'query($b: ID!) { sales(branchId: $b, first: 50) { edges { node { id saleNumber } } } }',
      { b: branchId },
      { token: t.adminToken },
    )).sales.edges.map((e) => e.node);
  const codes = (r: GqlResult) => (r.errors ?? []).map((e) => e.extensions?.code);

  beforeAll(async () => {
    p = await startTestPlatform();
    t = await createTenant(p, { branchCount: 1 });
    branchId = t.branches[0]!.id;
    productId = (await p.ok<{ createProduct: { id: string } }>(op('CreateProduct'), { input: { sku: 'AMB-1', name: 'Ambiguity Syrup', requiresPrescription: false, controlledSubstance: false } }, { token: t.adminToken }))
      .createProduct.id;
    await p.ok(op('ReceiveStock'), {
      input: { branchId, productId, batchNumber: 'AMB-B1', expiryDate: addDays(dateInZone('Africa/Lusaka'), 300), quantity: 100, costPrice: '1.00', sellingPrice: '10.00' },
    }, { token: t.adminToken });
    await openTillSession(p, t, t.adminToken, branchId);
  });
  afterAll(async () => {
    await p?.close();
  });

  it('answers SERVICE_UNAVAILABLE, retryable, for a subgraph that is down, and serves the rest', async () => {
    await p.subgraph('tenant').stop();
    try {
      const me = await p.gql('{ me { id } }', {}, { token: t.adminToken });
      expect(codes(me)).toEqual(['SERVICE_UNAVAILABLE']);
      expect(me.errors?.[0]?.extensions?.retryable).toBe(true);
      expect(JSON.stringify(me)).not.toMatch(/INTERNAL_SERVER_ERROR|ECONNREFUSED|127\.0\.0\.1/);
      // Inventory is up: its own query still answers.
      expect((await p.ok<{ products: { edges: unknown[] } }>('{ products(first: 5) { edges { node { id } } } }', {}, { token: t.adminToken })).products.edges).toHaveLength(1);
    } finally {
      await p.subgraph('tenant').start();
    }
    expect((await p.gql('{ me { id } }', {}, { token: t.adminToken })).errors).toBeUndefined();
  });

  it('answers OUTCOME_UNKNOWN when the lookup after a committed sale fails; the same key then answers that sale, once', async () => {
    const before = await committed();
    const key = randomUUID();
    // The sale's cashier and branch come from the tenant subgraph, looked up after pos committed.
    await p.subgraph('tenant').stop();
    let first: GqlResult<{ createSale: { id: string; saleNumber: string } | null }>;
    try {
      first = await sale(key);
    } finally {
      await p.subgraph('tenant').start();
    }
    const after = await committed();
    expect(after).toHaveLength(before.length + 1);
    const made = after.find((s) => !before.some((b) => b.id === s.id))!;
    if (first.data?.createSale) {
      expect(first.data.createSale).toMatchObject({ id: made.id, saleNumber: made.saleNumber });
    } else {
      expect(codes(first)).toContain('OUTCOME_UNKNOWN');
      expect(codes(first)).not.toContain('INTERNAL_SERVER_ERROR');
      expect(first.errors?.find((e) => e.extensions?.code === 'OUTCOME_UNKNOWN')?.extensions?.retryable).toBe(true);
    }
    const retried = await sale(key);
    expect(retried.errors).toBeUndefined();
    expect(retried.data?.createSale).toMatchObject({ id: made.id, saleNumber: made.saleNumber });
    expect(await committed()).toHaveLength(before.length + 1);
  });

  it('answers SERVICE_UNAVAILABLE for a sale whose subgraph refuses the connection: nothing was committed', async () => {
    const before = await committed();
    await p.subgraph('pos').stop();
    let r: GqlResult;
    try {
      r = await sale(randomUUID());
    } finally {
      await p.subgraph('pos').start();
    }
    expect(codes(r)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(r.errors?.[0]?.extensions?.retryable).toBe(true);
    expect(await committed()).toHaveLength(before.length);
  });
});
