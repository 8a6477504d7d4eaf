import type { Pool, PoolClient } from 'pg';
import type { Counter } from 'prom-client';
import { backoffMs, type Logger } from '@umi/kit';
import { bindSql, inTransaction, pgExecutor, sql, sharedTables, tables } from '@umi/db';
import type { EventBus, EventEnvelope, Topic } from './bus';

export interface RelayOptions {
  /** Pool with the application role; the relay holds one extra connection for LISTEN. */
  pool: Pool;
  /**
   * With tenants on several PostgreSQL servers (placement), one relay runs per server: `pool` is
   * that server's, `server` its connection reference, and `sharedPool` the primary's, where the
   * tenant directory lives. Unset: one server holds everything.
   */
  placement?: { server: string; sharedPool: Pool };
  bus: EventBus;
  logger: Logger;
  /** Sweep of every tenant's outbox, for anything a notification did not cover (ms). */
  sweepMs?: number;
  /** Events published this recently are published again when the bus lost its contents. */
  replayWindowSeconds?: number;
  batchSize?: number;
  /** After a failed cycle, the first retry waits up to this long (ms), each next one twice as long... */
  retryBaseMs?: number;
  /** ...but never longer than this (ms). */
  retryCapMs?: number;
  metrics?: { published: Counter; failures: Counter };
}

/** Runs `fn` in a transaction on a client of its own, released whatever happens. */
async function withTx<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    return await inTransaction(c, () => fn(c));
  } finally {
    c.release();
  }
}

interface OutboxRow {
  id: string;
  event_type: Topic;
  branch_id: string | null;
  payload: { serviceName?: string; data?: Record<string, unknown>; metadata?: EventEnvelope['metadata'] };
  created_at: Date;
}

/** The envelope of an outbox row (its id is the eventId, its created_at the timestamp). */
export function envelopeOf(row: OutboxRow, tenantId: string): EventEnvelope {
  return {
    eventId: row.id,
    eventType: row.event_type,
    serviceName: row.payload.serviceName ?? 'unknown',
    timestamp: row.created_at.toISOString(),
    data: row.payload.data ?? {},
    // The tenant is the schema's, whatever the payload says: a row cannot speak for another tenant.
    metadata: {
      tenantId,
      branchId: row.payload.metadata?.branchId ?? row.branch_id,
      userId: row.payload.metadata?.userId ?? null,
      correlationId: row.payload.metadata?.correlationId ?? null,
    },
  };
}

/**
 * Publishes a tenant's unpublished outbox rows, a batch per transaction, and marks them published
 * once the bus took them; returns how many went out. Rows are claimed FOR UPDATE SKIP LOCKED, so a
 * relay and the scheduled outbox sweep (or two of either) never publish the same batch at once.
 * `olderThanSeconds` takes only rows committed at least that long ago: the sweep leaves fresh rows
 * to the relay, which a notification has woken for them, and republishes what got stuck.
 */
export async function publishOutbox(opts: {
  pool: Pool;
  bus: EventBus;
  schema: string;
  tenantId: string;
  batchSize?: number;
  olderThanSeconds?: number;
  /** Check cheaply first whether anything waits; false for a schema that just notified (it has rows). */
  probe?: boolean;
}): Promise<number> {
  const batchSize = opts.batchSize ?? 500;
  const age = opts.olderThanSeconds ?? 0;
  // A sweep visits every tenant and almost all have nothing to send: one indexed autocommit
  // probe (outbox_unpublished_idx) instead of a transaction of three statements per schema, so
  // a thousand tenants cost a thousand cheap reads per sweep and start-up waits less for the first.
  // A notified schema has rows waiting: it skips the probe (no extra round trip per sale).
  if (opts.probe !== false) {
    const waiting = await bindSql(pgExecutor(opts.pool), opts.schema).one<{ any: boolean }>(
      sql`SELECT EXISTS (SELECT 1 FROM ${tables.outbox} WHERE published_at IS NULL) AS any`,
    );
    if (!waiting.any) return 0;
  }
  let total = 0;
  for (;;) {
    // Claimed and marked in one statement, published before the commit: a bus that refuses them
    // rolls the mark back, so they stay for the next attempt. (Select, publish, then update cost
    // a round trip more per batch, which at one event per notification meant per sale.)
    const sent = await withTx(opts.pool, async (c) => {
      const rows = await bindSql(pgExecutor(c), opts.schema).query<OutboxRow>(
        sql`WITH claimed AS (
              SELECT id FROM ${tables.outbox} WHERE published_at IS NULL AND created_at <= now() - make_interval(secs => ${age})
              ORDER BY created_at, id LIMIT ${batchSize} FOR UPDATE SKIP LOCKED
            ), marked AS (
              UPDATE ${tables.outbox} o SET published_at = now(), attempts = o.attempts + 1 FROM claimed WHERE o.id = claimed.id
              RETURNING o.id, o.event_type, o.branch_id::text, o.payload, o.created_at
            )
            SELECT id::text, event_type, branch_id, payload, created_at FROM marked ORDER BY created_at, marked.id`,
      );
      if (rows.length === 0) return 0;
      await opts.bus.publish(rows.map((r) => envelopeOf(r, opts.tenantId)));
      return rows.length;
    });
    total += sent;
    if (sent < batchSize) return total;
  }
}

/**
 * The transactional outbox's relay: publishes committed outbox rows to the bus and marks them
 * published. A commit's trigger NOTIFYs the tenant's schema, so events leave within milliseconds;
 * a periodic sweep catches anything missed (relay restarts, a bus outage). Rows are claimed with
 * FOR UPDATE SKIP LOCKED, so several relays share the work, and marked published only after the
 * bus accepted them: an outage leaves them for the next attempt and never touches the sale that
 * wrote them. Delivery is at least once (a crash between publish and commit repeats a batch);
 * consumers deduplicate by eventId.
 */
export function startRelay(opts: RelayOptions) {
  const { pool, bus, logger } = opts;
  const sweepMs = opts.sweepMs ?? 2_000;
  const batchSize = opts.batchSize ?? 500;
  const replayWindow = opts.replayWindowSeconds ?? 300;
  const retryBaseMs = opts.retryBaseMs ?? 250;
  const retryCapMs = opts.retryCapMs ?? 30_000;
  // Failures in a row, and when the next attempt may run: while the bus or the database is away,
  // every commit's notification would otherwise start a cycle that fails at once (172 in 10 s).
  let failures = 0;
  let retryAt = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  const tenants = new Map<string, string>(); // schema -> tenant id
  const pending = new Set<string>();
  /** Schemas a commit notified since their last drain: they have rows waiting, no probe needed. */
  const notified = new Set<string>();
  let draining: Promise<void> | null = null;
  let listener: PoolClient | null = null;
  let stopped = false;
  let lastEpoch: string | null = null;
  let timer: NodeJS.Timeout | null = null;

  async function loadTenants(): Promise<void> {
    const placement = opts.placement;
    const rows = await withTx(placement?.sharedPool ?? pool, async (c) => {
      await c.query(`SELECT set_config('app.platform', 'on', true)`);
      return bindSql(pgExecutor(c), null).query<{ id: string; schema_name: string }>(
        placement
          ? sql`SELECT t.id::text, t.schema_name FROM ${sharedTables.tenants} t JOIN ${sharedTables.database_servers} s ON s.id = t.server_id
                WHERE t.deleted_at IS NULL AND s.connection_ref = ${placement.server}`
          : sql`SELECT id::text, schema_name FROM ${sharedTables.tenants} WHERE deleted_at IS NULL`,
      );
    });
    tenants.clear();
    for (const r of rows) tenants.set(r.schema_name, r.id);
  }

  /** Publishes one schema's unpublished rows, a batch per transaction; returns how many went out. */
  async function drain(schema: string, probe: boolean): Promise<number> {
    const tenantId = tenants.get(schema);
    if (!tenantId) return 0;
    const sent = await publishOutbox({ pool, bus, schema, tenantId, batchSize, probe });
    opts.metrics?.published.inc(sent);
    return sent;
  }

  /** After the bus lost its contents, publishes again what went out within the replay window. */
  async function replay(): Promise<void> {
    for (const [schema, tenantId] of tenants) {
      const rows = await bindSql(pgExecutor(pool), schema).query<OutboxRow>(
        sql`SELECT id::text, event_type, branch_id::text, payload, created_at FROM ${tables.outbox}
            WHERE published_at > now() - make_interval(secs => ${replayWindow}) ORDER BY created_at, id`,
      );
      if (rows.length > 0) await bus.publish(rows.map((r) => envelopeOf(r, tenantId)));
    }
  }

  async function cycle(all: boolean): Promise<void> {
    if (all || tenants.size === 0) await loadTenants();
    // Checked on every cycle, before publishing anything new: a restarted bus gets the recent
    // past again first, so subscribers that missed it in the outage catch up in order.
    const epoch = await bus.epoch();
    if (lastEpoch !== null && epoch !== lastEpoch) {
      logger.warn('event bus lost its contents; replaying recent events');
      await replay();
    }
    lastEpoch = epoch;
    if (all) for (const schema of tenants.keys()) pending.add(schema);
    while (pending.size > 0 && !stopped) {
      const [schema] = pending;
      pending.delete(schema!);
      if (!tenants.has(schema!)) await loadTenants();
      await drain(schema!, !notified.delete(schema!));
    }
  }

  /**
   * Runs a cycle unless one is running (a notification during a cycle is picked up by it) or the
   * last ones failed and their backoff has not passed (the retry then covers every schema).
   * `force` (flush) ignores the backoff.
   */
  function kick(all: boolean, force = false): Promise<void> {
    if (draining) return draining;
    if (!force && Date.now() < retryAt) return Promise.resolve();
    draining = cycle(all)
      .then(
        () => {
          if (failures > 0) logger.info({ failures }, 'outbox relay: publishing again');
          failures = 0;
          retryAt = 0;
        },
        (err: unknown) => {
          opts.metrics?.failures.inc();
          // Exponential with full jitter: relays restarted together do not retry in step.
          const delay = backoffMs(failures, retryBaseMs, retryCapMs);
          failures += 1;
          retryAt = Date.now() + delay;
          logger.warn({ err: (err as Error).message, failures, retryInMs: delay }, 'outbox relay: will retry');
          if (!stopped) {
            if (retryTimer) clearTimeout(retryTimer);
            retryTimer = setTimeout(() => {
              retryTimer = null;
              void kick(true);
            }, delay);
          }
        },
      )
      .finally(() => {
        draining = null;
      });
    return draining;
  }

  /** Gives a listening connection back to the pool once, however many paths end it. */
  function releaseListener(client: PoolClient, broken: boolean): void {
    if (listener === client) listener = null;
    if (released.has(client)) return;
    released.add(client);
    client.release(broken);
  }
  const released = new WeakSet<PoolClient>();

  async function listen(): Promise<void> {
    const client = await pool.connect();
    listener = client;
    client.on('notification', (msg) => {
      if (msg.channel === 'umi_outbox' && msg.payload) {
        pending.add(msg.payload);
        notified.add(msg.payload);
        void kick(false);
      }
    });
    // The connection dropped: the sweep covers the gap, and a new listener is made on the next sweep.
    client.on('error', () => releaseListener(client, true));
    await client.query('LISTEN umi_outbox');
  }

  const started = (async () => {
    await listen().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'outbox relay: LISTEN failed; sweeping only'));
    await kick(true);
    const sweep = async () => {
      if (stopped) return;
      if (!listener) await listen().catch(() => {});
      await kick(true);
      if (!stopped) timer = setTimeout(() => void sweep(), sweepMs);
    };
    timer = setTimeout(() => void sweep(), sweepMs);
  })();

  return {
    /** Resolves once the relay listens and has done its first sweep. */
    ready: started,
    /** Drains everything now (tests, shutdown), whatever the backoff. */
    flush: () => kick(true, true),
    /**
     * Age in seconds of the oldest committed event not yet published, over every tenant's outbox
     * (0 when none): the relay's lag. One indexed query per schema (outbox_unpublished_idx), run at
     * scrape time, so a relay that stopped publishing still shows its lag growing.
     */
    async lagSeconds(): Promise<number> {
      if (tenants.size === 0) await loadTenants();
      let oldest: Date | null = null;
      for (const schema of tenants.keys()) {
        const row = await bindSql(pgExecutor(pool), schema).maybeOne<{ created_at: Date | null }>(
          sql`SELECT min(created_at) AS created_at FROM ${tables.outbox} WHERE published_at IS NULL`,
        );
        if (row?.created_at && (!oldest || row.created_at < oldest)) oldest = row.created_at;
      }
      return oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0;
    },
    /** Cycles failed in a row (0 once publishing works). */
    get failures() {
      return failures;
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (retryTimer) clearTimeout(retryTimer);
      await draining;
      // The connection's error handler may drop it while we wait (the server stopping first, as the
      // embedded one does on Ctrl-C): release what we hold, once.
      const held = listener;
      if (held) {
        await held.query('UNLISTEN umi_outbox').catch(() => {});
        releaseListener(held, false);
      }
    },
  };
}
export type Relay = ReturnType<typeof startRelay>;
