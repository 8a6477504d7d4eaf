import { createTestDatabase, TEST_APP_ROLE, type TestDatabase } from '@umi/testkit/database';
import { createAppPool, createTenantProvisioner, tenantSchemaName } from '@umi/db';
import { createLogger } from '@umi/kit';
import type { Pool } from 'pg';
import { createMemoryBus, type EventBus, type EventEnvelope } from './bus';
import { startRelay } from './relay';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SUBDOMAIN = 'relaytest';
const SCHEMA = tenantSchemaName(SUBDOMAIN);

/** A bus that refuses every publish while `down` (Redis away), counting the attempts. */
function flakyBus() {
  const inner = createMemoryBus();
  const state = { down: false, attempts: 0, published: new Set<string>(), order: [] as string[] };
  const bus: EventBus = {
    ...inner,
    async publish(events: EventEnvelope[]) {
      state.attempts += 1;
      if (state.down) throw new Error('Connection is closed.');
      for (const e of events) {
        state.published.add(e.eventId);
        state.order.push(e.eventId);
      }
      await inner.publish(events);
    },
  };
  return { bus, state };
}

describe('outbox relay under failures', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    const provisioner = createTenantProvisioner(db.url, TEST_APP_ROLE);
    await provisioner.provision(
      { name: 'Relay test', subdomain: SUBDOMAIN, plan: 'basic', admin: { email: 'a@relay.test', passwordHash: 'x', firstName: 'A', lastName: 'B' } },
      { userId: '00000000-0000-4000-8000-000000000001', ipAddress: null, userAgent: null, correlationId: null },
    );
    await provisioner.close();
    pool = createAppPool(db.url, 3, TEST_APP_ROLE);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const commitEvent = () =>
    db.pool.query(`INSERT INTO ${SCHEMA}.outbox (event_type, aggregate_id, payload) VALUES ('sale.completed', gen_random_uuid(), '{}') RETURNING id::text`).then((r) => r.rows[0].id as string);
  const unpublished = () => db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE published_at IS NULL`).then((r) => r.rows[0].n as number);

  it('marks a batch published only once the bus took it, and publishes it in commit order', async () => {
    const { bus, state } = flakyBus();
    state.down = true;
    // Committed in one transaction: one created_at, so the order is the id's (as the relay sorts).
    const ids = (
      await db.pool.query(
        `INSERT INTO ${SCHEMA}.outbox (event_type, aggregate_id, payload) SELECT 'sale.completed', gen_random_uuid(), '{}' FROM generate_series(1, 5) RETURNING id::text`,
      )
    ).rows.map((r: { id: string }) => r.id);
    ids.push(await commitEvent(), await commitEvent());
    const relay = startRelay({ pool, bus, logger: createLogger('relay', 'silent'), sweepMs: 100, retryBaseMs: 100, retryCapMs: 200 });
    await relay.ready;
    for (let i = 0; i < 50 && state.attempts === 0; i++) await sleep(20);
    expect(state.attempts).toBeGreaterThan(0);
    // The refused batch was claimed and marked in one statement; its rollback left it untouched.
    const refused = await db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE id = ANY($1::uuid[]) AND published_at IS NULL AND attempts = 0`, [ids]);
    expect(refused.rows[0].n).toBe(ids.length);
    state.down = false;
    for (let i = 0; i < 60 && (await unpublished()) > 0; i++) await sleep(50);
    await relay.stop();
    const expected = (await db.pool.query(`SELECT id::text FROM ${SCHEMA}.outbox WHERE id = ANY($1::uuid[]) ORDER BY created_at, id`, [ids])).rows.map((r: { id: string }) => r.id);
    expect(state.order.filter((id) => ids.includes(id))).toEqual(expected);
    const marked = await db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE id = ANY($1::uuid[]) AND published_at IS NOT NULL AND attempts = 1`, [ids]);
    expect(marked.rows[0].n).toBe(ids.length);
  });

  it('backs off while the bus is away instead of retrying on every commit, then publishes everything', async () => {
    const { bus, state } = flakyBus();
    const relay = startRelay({ pool, bus, logger: createLogger('relay', 'silent'), sweepMs: 100, retryBaseMs: 100, retryCapMs: 1000 });
    await relay.ready;
    state.down = true;
    state.attempts = 0;
    // 3 s of outage with a commit (and its notification) every 20 ms.
    const ids: string[] = [];
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      ids.push(await commitEvent());
      await sleep(20);
    }
    const attemptsInOutage = state.attempts;
    state.down = false;
    for (let i = 0; i < 60 && (await unpublished()) > 0; i++) await sleep(100);
    await relay.stop();
    // Doubling from 100 ms to a 1 s cap: about a dozen attempts in 3 s, not one per commit (~130).
    expect(attemptsInOutage).toBeGreaterThan(1);
    expect(attemptsInOutage).toBeLessThanOrEqual(15);
    expect(await unpublished()).toBe(0);
    expect(ids.filter((id) => !state.published.has(id))).toEqual([]);
    expect(relay.failures).toBe(0);
  });

  it('survives PostgreSQL terminating its connections again and again, and publishes every event', async () => {
    const { bus, state } = flakyBus();
    // Its connections are named, so that only they are terminated (not the test's own pool).
    const relayPool = createAppPool(db.url, 3, TEST_APP_ROLE, { application_name: 'relay-under-test' });
    const relay = startRelay({ pool: relayPool, bus, logger: createLogger('relay', 'silent'), sweepMs: 100, retryBaseMs: 20, retryCapMs: 200 });
    await relay.ready;
    const ids: string[] = [];
    let terminated = 0;
    const until = Date.now() + 4000;
    const killer = (async () => {
      while (Date.now() < until) {
        const r = await db.pool.query(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'relay-under-test'`,
        );
        terminated += r.rows[0].n as number;
        await sleep(30);
      }
    })();
    while (Date.now() < until) {
      ids.push(await commitEvent().catch(() => ''));
      await sleep(10);
    }
    await killer;
    for (let i = 0; i < 100 && (await unpublished()) > 0; i++) await sleep(100);
    await relay.stop();
    await relayPool.end();
    expect(terminated).toBeGreaterThan(5);
    expect(await unpublished()).toBe(0);
    expect(ids.filter((id) => id && !state.published.has(id))).toEqual([]);
  });
});
