import { Counter, Registry } from 'prom-client';
import { createLogger, type Principal } from '@umi/kit';
import { createMemoryBus, type EventEnvelope } from '@umi/events/bus';
import { DEFAULT_FETCH_CONCURRENCY, EventHub } from './hub';
import type { FetchPlan } from './plan';

const TENANT = '11111111-1111-4111-8111-111111111111';
const OTHER_TENANT = '22222222-2222-4222-8222-222222222222';
const A1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa1';
const A2 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa2';

const principal = (role: Principal['role'], branchIds: string[], tenantId = TENANT): Principal => ({
  userId: '33333333-3333-4333-8333-333333333333',
  email: 'x@y.z',
  role,
  tenantId,
  tenantSubdomain: 't',
  branchIds,
  permissions: { canViewAllBranches: false, canManageAllBranches: false, canTransferStock: false, canViewReports: [], canProcessSales: [] },
});
const plan = (shape: string): FetchPlan => ({ responseKey: 'saleCompleted', query: shape, variables: {}, shapeKey: shape });
const sale = (n: number, branchId: string, tenantId = TENANT): EventEnvelope => ({
  eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  eventType: 'sale.completed',
  serviceName: 'pos',
  timestamp: new Date().toISOString(),
  data: { saleId: `sale-${n}` },
  metadata: { tenantId, branchId, userId: null, correlationId: null },
});

function setup(queueSize = 10, fetch?: (key: string) => Promise<{ data?: Record<string, unknown>; errors?: unknown[] }>) {
  const bus = createMemoryBus();
  const registry = new Registry();
  const counter = (name: string) => new Counter({ name, help: name, registers: [registry] });
  const metrics = { delivered: counter('d'), dropped: counter('x'), fetches: counter('f'), unresolved: counter('u') };
  const fetched: string[] = [];
  const hub = new EventHub(
    bus,
    async (_p, p, key) => {
      fetched.push(`${p.shapeKey}:${key}`);
      return fetch ? ((await fetch(key)) as never) : { data: { saleCompleted: { id: key } } };
    },
    metrics,
    createLogger('test', 'silent'),
    queueSize,
  );
  const value = async (c: Counter) => (await c.get()).values[0]?.value ?? 0;
  return { bus, hub, metrics, fetched, value };
}

/** A payload as a subscriber receives it: the entity, and the event's position (its resume point). */
const payload = (id: string) => ({ data: { saleCompleted: { id } }, extensions: { eventId: expect.stringMatching(/^\d+-\d+$/) } });

const flush = () => new Promise((r) => setTimeout(r, 10));

async function take(queue: AsyncIterator<unknown>, n: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push((await queue.next()).value);
  return out;
}

describe('EventHub', () => {
  it('fetches once per event, selection shape and access, keeps branch filters, and skips duplicates and other tenants', async () => {
    const { bus, hub, fetched } = setup();
    const cashiers = [hub.subscribe({ tenantId: TENANT, route: 'saleCompleted', branchId: A1, principal: principal('CASHIER', [A1]), plan: plan('S') }), hub.subscribe({ tenantId: TENANT, route: 'saleCompleted', branchId: null, principal: principal('CASHIER', [A1]), plan: plan('S') })];
    const admin = hub.subscribe({ tenantId: TENANT, route: 'saleCompleted', branchId: null, principal: principal('ADMIN', []), plan: plan('S') });
    await bus.publish([sale(1, A1), sale(1, A1), sale(2, A2), sale(3, A1, OTHER_TENANT)]);
    await flush();
    expect(fetched.sort()).toEqual(['S:sale-1', 'S:sale-1', 'S:sale-2']); // cashiers share one fetch; the admin has another access
    expect(cashiers.map((q) => q.size)).toEqual([1, 1]);
    expect(admin.size).toBe(2);
    expect(await take(admin, 2)).toEqual([payload('sale-1'), payload('sale-2')]);
  });

  it('bounds a slow subscriber: the oldest events are dropped and counted, others are unaffected', async () => {
    const { bus, hub, metrics, value } = setup(3);
    const slow = hub.subscribe({ tenantId: TENANT, route: 'saleCompleted', branchId: null, principal: principal('ADMIN', []), plan: plan('S') });
    const fast = hub.subscribe({ tenantId: TENANT, route: 'saleCompleted', branchId: null, principal: principal('ADMIN', []), plan: plan('T') });
    const got: unknown[] = [];
    const reading = (async () => {
      for await (const e of fast) {
        got.push(e);
        if (got.length === 10) break;
      }
    })();
    for (let i = 1; i <= 10; i++) await bus.publish([sale(i, A1)]);
    await flush();
    await reading;
    expect(got).toHaveLength(10);
    expect(slow.size).toBe(3);
    expect(await take(slow, 3)).toEqual([8, 9, 10].map((n) => payload(`sale-${n}`)));
    expect(await value(metrics.dropped)).toBe(7);
  });

  it('stops listening to a stream when its last subscriber leaves', async () => {
    const { bus, hub, fetched } = setup();
    const q = hub.subscribe({ tenantId: TENANT, route: 'saleCompleted', branchId: null, principal: principal('ADMIN', []), plan: plan('S') });
    await q.return();
    expect(hub.subscriptionCount).toBe(0);
    await bus.publish([sale(1, A1)]);
    await flush();
    expect(fetched).toEqual([]);
  });

  it('retries a failed payload fetch, and gives up only on an entity that is gone', async () => {
    const calls = new Map<string, number>();
    const { bus, hub, metrics, value } = setup(10, async (key) => {
      calls.set(key, (calls.get(key) ?? 0) + 1);
      if (key === 'sale-1' && calls.get(key)! < 3) throw new Error('ECONNRESET');
      if (key === 'sale-2') return { data: { saleCompleted: null } };
      return { data: { saleCompleted: { id: key } } };
    });
    const q = hub.subscribe({ tenantId: TENANT, route: 'saleCompleted', branchId: null, principal: principal('ADMIN', []), plan: plan('S') });
    await bus.publish([sale(1, A1), sale(2, A1), sale(3, A1)]);
    expect(await take(q, 2)).toEqual([payload('sale-1'), payload('sale-3')]);
    expect(await value(metrics.unresolved)).toBe(1);
    expect(Object.fromEntries(calls)).toEqual({ 'sale-1': 3, 'sale-2': 1, 'sale-3': 1 });
  });

  it('runs the payload fetches of a backlog a few at a time, not all at once, and still delivers every event in order', async () => {
    let running = 0;
    let peak = 0;
    const { bus, hub } = setup(500, async (key) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
      return { data: { saleCompleted: { id: key } } };
    });
    const q = hub.subscribe({ tenantId: TENANT, route: 'saleCompleted', branchId: null, principal: principal('ADMIN', []), plan: plan('S') });
    // A Redis outage's backlog arrives in one read.
    const backlog = Array.from({ length: 200 }, (_, i) => sale(i + 1, A1));
    await bus.publish(backlog);
    await new Promise((r) => setImmediate(r));
    expect(hub.fetchLoad.active).toBeLessThanOrEqual(DEFAULT_FETCH_CONCURRENCY);
    expect(hub.fetchLoad.waiting).toBeGreaterThan(100);
    const got = await take(q, 200);
    expect(peak).toBe(DEFAULT_FETCH_CONCURRENCY);
    expect(got).toEqual(backlog.map((_, i) => payload(`sale-${i + 1}`)));
  });

  it('resumes after a position: the missed events of its branches, then live ones, none twice', async () => {
    const { bus, hub } = setup(50);
    const first = hub.subscribe({ tenantId: TENANT, route: 'saleCompleted', branchId: null, principal: principal('CASHIER', [A1]), plan: plan('S') });
    await bus.publish([sale(1, A1)]);
    await flush();
    const [seen] = (await take(first, 1)) as { extensions: { eventId: string } }[];
    await first.return();
    // Away: two sales at its branch, one at a branch it may not see, one of another tenant.
    await bus.publish([sale(2, A1), sale(3, A2), sale(4, A1, OTHER_TENANT), sale(5, A1)]);
    const resumed = hub.subscribe({ tenantId: TENANT, route: 'saleCompleted', branchId: null, principal: principal('CASHIER', [A1]), plan: plan('S'), after: seen!.extensions.eventId });
    await bus.publish([sale(6, A1), sale(5, A1)]);
    await flush();
    expect(await take(resumed, 3)).toEqual([payload('sale-2'), payload('sale-5'), payload('sale-6')]);
    expect(resumed.size).toBe(0);
  });
});
