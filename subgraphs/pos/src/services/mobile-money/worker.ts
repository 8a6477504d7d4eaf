import { sql, sharedTables, tables, type TenantDb, type TenantRecord } from '@umi/db';
import type { PaymentAttempt } from '@umi/db/tenant-models';
import { recordEvent } from '@umi/events';
import { dateInZone, type FieldCipher } from '@umi/kit';
import type { MobileMoneyWorker } from './types';

export type { MobileMoneyWorker };
import type { StockActor } from '@umi/ledger';
import type { SubgraphRuntime } from '@umi/subgraph';
import { answerPayment } from '../payments';
import { salesCompleted } from '../../metrics';
import { lockSale } from '../refunds';
import { lockSessionShared } from '../tills';
import { airtelClient, mtnClient, ProviderRefused, ProviderUnavailable, type ProviderClient, type ProviderConfig, type ProviderStatus } from './providers';
import { loadProviderConfig } from './settings';

type Final = 'SUCCEEDED' | 'FAILED' | 'EXPIRED';

interface AttemptRow {
  id: string;
  payment_id: string;
  sale_id: string;
  branch_id: string;
  provider: 'MTN' | 'AIRTEL';
  msisdn: string;
  amount: string;
  state: string;
  checks: number;
  expires_at: Date;
}


/**
 * Sends the requests to pay recorded at checkout and finalises them: a status call with backoff
 * (MOMO_POLL_BASE_MS doubling up to MOMO_POLL_MAX_MS) until the provider answers or the attempt's
 * window (MOMO_PAYMENT_WINDOW_SECONDS) ends, whatever callbacks come or do not. An attempt is
 * claimed (locked_until) while a worker talks to the provider, so two workers, or a callback and
 * the timer, never send or finalise it twice; the provider dedups our reference besides.
 */
export function createMobileMoneyWorker(runtime: SubgraphRuntime, cipher: FieldCipher | null, clients?: Partial<Record<'MTN' | 'AIRTEL', ProviderClient>>): MobileMoneyWorker {
  const { env, logger } = runtime;
  const providers: Record<'MTN' | 'AIRTEL', ProviderClient> = {
    MTN: clients?.MTN ?? mtnClient(env.MOMO_HTTP_TIMEOUT_MS),
    AIRTEL: clients?.AIRTEL ?? airtelClient(env.MOMO_HTTP_TIMEOUT_MS),
  };
  const log = logger.child({ component: 'mobile-money' });
  const inflight = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;
  let lastSweep = 0;
  let stopped = false;

  const backoff = (checks: number) => Math.min(env.MOMO_POLL_BASE_MS * 2 ** Math.max(0, checks - 1), env.MOMO_POLL_MAX_MS);
  const tenantDb = (t: TenantRecord) => runtime.data.tenantDb(t);
  const track = <T>(p: Promise<T>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => {});
    return p;
  };

  async function claim(db: TenantDb, id: string, force: boolean): Promise<AttemptRow | null> {
    const rows = await db.sql.query<AttemptRow>(
      sql`UPDATE ${tables.payment_attempts} SET locked_until = now() + interval '60 seconds', checks = checks + 1, updated_at = now()
          WHERE id = ${id}::uuid AND finalized_at IS NULL AND (locked_until IS NULL OR locked_until < now()) AND (${force} OR next_check_at <= now())
          RETURNING id::text, payment_id::text, sale_id::text, branch_id::text, provider, msisdn, amount::text, state, checks, expires_at`,
    );
    return rows[0] ?? null;
  }

  async function release(db: TenantDb, a: AttemptRow, patch: { providerStatus?: string | null; delayMs: number }) {
    const at = new Date(Math.min(Date.now() + patch.delayMs, a.expires_at.getTime()));
    await db.sql.execute(
      sql`UPDATE ${tables.payment_attempts} SET locked_until = NULL, next_check_at = ${at}, provider_status = coalesce(${patch.providerStatus ?? null}, provider_status), updated_at = now()
          WHERE id = ${a.id}::uuid AND finalized_at IS NULL`,
    );
  }

  function statusEvent(tenant: TenantRecord, a: AttemptRow, state: string) {
    return {
      eventType: 'payment.status_changed' as const,
      serviceName: 'pos',
      aggregateId: a.sale_id,
      data: { saleId: a.sale_id, paymentId: a.payment_id, attemptId: a.id, provider: a.provider, state },
      metadata: { tenantId: tenant.id, branchId: a.branch_id, userId: null, correlationId: `momo:${a.id}` },
    };
  }

  async function markSent(tenant: TenantRecord, db: TenantDb, a: AttemptRow) {
    await db.transaction(async (tx) => {
      const at = new Date(Math.min(Date.now() + env.MOMO_POLL_BASE_MS, a.expires_at.getTime()));
      const n = await tx.sql.execute(
        sql`UPDATE ${tables.payment_attempts} SET state = 'PENDING', provider_status = 'PENDING', sent_at = now(), checks = 0, locked_until = NULL,
                   next_check_at = ${at}, updated_at = now()
            WHERE id = ${a.id}::uuid AND state = 'INITIATED'`,
      );
      if (n > 0) await recordEvent(tx, statusEvent(tenant, a, 'PENDING'));
    });
  }

  /** The provider's final answer, applied to the sale under its lock: completed, or voided with its stock back. */
  async function finalize(tenant: TenantRecord, db: TenantDb, a: AttemptRow, state: Final, s: { providerStatus: string | null; transactionId?: string | null; reason?: string | null }) {
    const branch = await runtime.branches.get(tenant.id, a.branch_id);
    let completed = false;
    const done = await db.transaction(async (tx) => {
      completed = false;
      const sale = await lockSale(tx, a.sale_id);
      const still = await tx.sql.query(sql`SELECT 1 FROM ${tables.payment_attempts} WHERE id = ${a.id}::uuid AND finalized_at IS NULL FOR UPDATE`);
      if (still.length === 0) return false;
      const payment = await tx.payment.findUniqueOrThrow({ where: { id: a.payment_id } });
      // An ADMIN may have answered the payment by hand meanwhile: their answer stands; the
      // attempt still records what the provider said, for the reconciliation.
      if (payment.status === 'PENDING' && sale.status !== 'VOIDED') {
        const actor: StockActor = { tenantId: tenant.id, userId: null, isPharmacist: false, correlationId: `momo:${a.id}`, service: 'pos' };
        ({ completed } = await answerPayment(
          tx,
          {
            actor,
            // Whatever part of a split was already taken is handed back by the sale's seller.
            paidBy: sale.cashierId,
            // Money is booked to the session the sale was made in: it cannot close while a request is pending.
            session: async (_s, bookedTo) => (bookedTo && (await lockSessionShared(tx, bookedTo))?.status === 'OPEN' ? bookedTo : null),
          },
          sale,
          payment,
          {
            approved: state === 'SUCCEEDED',
            providerReference: state === 'SUCCEEDED' ? (s.transactionId ?? null) : null,
            today: dateInZone(branch?.timezone ?? 'Africa/Lusaka'),
            tenantId: tenant.id,
            correlationId: `momo:${a.id}`,
          },
        ));
      }
      await tx.sql.execute(
        sql`UPDATE ${tables.payment_attempts} SET state = ${state}, provider_status = coalesce(${s.providerStatus}, provider_status),
                   provider_transaction_id = ${s.transactionId ?? null}, reason = ${s.reason ?? null}, finalized_at = now(), locked_until = NULL, updated_at = now()
            WHERE id = ${a.id}::uuid`,
      );
      await recordEvent(tx, statusEvent(tenant, a, state));
      return true;
    });
    if (done) {
      if (completed) salesCompleted(runtime.metrics).inc();
      log.info({ tenantId: tenant.id, attemptId: a.id, state }, 'mobile-money attempt final');
      // No mutation's response bumps the caches here: a voided sale put its stock back, so the
      // branch's cached stock must go (a failed bump leaves this process distrusting its cache).
      await runtime.cache?.bump(tenant.id, [`branch:${a.branch_id}`]);
    }
    await runtime.data
      .shared({ kind: 'tenant', tenantId: tenant.id }, tenant)
      .transaction((tx) => tx.sql.execute(sql`UPDATE ${sharedTables.mobile_money_references} SET finalized_at = now() WHERE reference = ${a.id}::uuid AND finalized_at IS NULL`));
  }

  async function apply(tenant: TenantRecord, db: TenantDb, a: AttemptRow, st: ProviderStatus) {
    if (st.kind === 'SUCCEEDED') return finalize(tenant, db, a, 'SUCCEEDED', { providerStatus: st.raw, transactionId: st.transactionId });
    if (st.kind === 'FAILED' || st.kind === 'EXPIRED') return finalize(tenant, db, a, st.kind, { providerStatus: st.raw, reason: st.reason });
    if (Date.now() >= a.expires_at.getTime()) return finalize(tenant, db, a, 'EXPIRED', { providerStatus: st.raw, reason: 'EXPIRED' });
    return release(db, a, { providerStatus: st.raw, delayMs: backoff(a.checks) });
  }

  async function send(tenant: TenantRecord, db: TenantDb, a: AttemptRow, cfg: ProviderConfig) {
    const client = providers[a.provider];
    // A previous try may have reached the provider before failing on the way back: ask first,
    // so that the provider never sees the request twice.
    if (a.checks > 1) {
      const st = await client.status(cfg, a.id);
      if (st.kind !== 'UNKNOWN') {
        await markSent(tenant, db, a);
        return apply(tenant, db, { ...a, state: 'PENDING' }, st);
      }
    }
    if (Date.now() >= a.expires_at.getTime()) return finalize(tenant, db, a, 'EXPIRED', { providerStatus: null, reason: 'NOT_SENT' });
    // The index the callbacks find the tenant by exists before the provider knows the reference.
    await runtime.data
      .shared({ kind: 'tenant', tenantId: tenant.id }, tenant)
      .transaction((tx) =>
        tx.sql.execute(
          sql`INSERT INTO ${sharedTables.mobile_money_references} (reference, tenant_id, provider) VALUES (${a.id}::uuid, ${tenant.id}::uuid, ${a.provider}) ON CONFLICT (reference) DO NOTHING`,
        ),
      );
    const base = cfg.callbackBaseUrl ?? env.MOMO_CALLBACK_BASE_URL ?? null;
    const callbackUrl = base ? `${base.replace(/\/+$/, '')}/callbacks/${a.provider.toLowerCase()}/${cfg.secrets.callbackSecret}?ref=${a.id}` : null;
    await client.requestToPay(cfg, { reference: a.id, amount: a.amount, msisdn: a.msisdn, externalId: a.id, message: 'Umi Health pharmacy payment', callbackUrl });
    await markSent(tenant, db, a);
  }

  async function work(tenant: TenantRecord, id: string, force: boolean): Promise<void> {
    const db = tenantDb(tenant);
    const a = await claim(db, id, force);
    if (!a) return;
    try {
      const cfg = await loadProviderConfig(db, cipher, tenant.id, a.provider);
      if (!cfg) {
        if (Date.now() >= a.expires_at.getTime()) return await finalize(tenant, db, a, 'EXPIRED', { providerStatus: null, reason: 'NOT_CONFIGURED' });
        return await release(db, a, { delayMs: env.MOMO_POLL_MAX_MS });
      }
      if (a.state === 'INITIATED') return await send(tenant, db, a, cfg);
      return await apply(tenant, db, a, await providers[a.provider].status(cfg, a.id));
    } catch (err) {
      if (err instanceof ProviderRefused && a.state === 'INITIATED') {
        log.warn({ tenantId: tenant.id, attemptId: a.id, err: err.message }, 'provider refused the request to pay');
        return finalize(tenant, db, a, 'FAILED', { providerStatus: null, reason: 'REFUSED' });
      }
      log.warn({ tenantId: tenant.id, attemptId: a.id, err: (err as Error).message, unavailable: err instanceof ProviderUnavailable }, 'mobile-money call failed; will retry');
      if (Date.now() >= a.expires_at.getTime() && a.state === 'PENDING') return finalize(tenant, db, a, 'EXPIRED', { providerStatus: null, reason: 'EXPIRED' });
      await release(db, a, { delayMs: backoff(a.checks) }).catch(() => {});
    }
  }

  /** Indexes the tenant's attempts already sent (a restored tenant's index is not in its backup). */
  async function reindex(tenant: TenantRecord, db: TenantDb): Promise<void> {
    const sent = await db.sql.query<{ id: string; provider: string }>(
      sql`SELECT id::text, provider FROM ${tables.payment_attempts} WHERE finalized_at IS NULL AND state = 'PENDING'`,
    );
    if (sent.length === 0) return;
    await runtime.data
      .shared({ kind: 'tenant', tenantId: tenant.id }, tenant)
      .transaction((tx) =>
        tx.sql.execute(
          sql`INSERT INTO ${sharedTables.mobile_money_references} (reference, tenant_id, provider)
              SELECT r, ${tenant.id}::uuid, p FROM unnest(${sent.map((a) => a.id)}::uuid[], ${sent.map((a) => a.provider)}::text[]) AS x(r, p)
              ON CONFLICT (reference) DO NOTHING`,
        ),
      );
  }

  async function dueIn(tenant: TenantRecord, sweep: boolean): Promise<void> {
    const db = tenantDb(tenant);
    if (sweep) await reindex(tenant, db);
    const due = await db.sql.query<{ id: string }>(
      sql`SELECT id::text FROM ${tables.payment_attempts}
          WHERE finalized_at IS NULL AND next_check_at <= now() AND (locked_until IS NULL OR locked_until < now()) ORDER BY next_check_at LIMIT 50`,
    );
    await Promise.all(due.map((d) => work(tenant, d.id, false)));
  }

  async function tickOnce(): Promise<void> {
    const shared = runtime.data.shared({ kind: 'platform' }, null);
    // Attempts recorded but never sent (the process stopped between the commit and the send) are
    // not in the index yet: every tenant is swept for them now and then.
    const sweep = Date.now() - lastSweep > 30_000;
    const rows = await shared.transaction((tx) =>
      sweep
        ? tx.sql.query<{ tenant_id: string }>(sql`SELECT id::text AS tenant_id FROM ${sharedTables.tenants} WHERE deleted_at IS NULL`)
        : tx.sql.query<{ tenant_id: string }>(sql`SELECT DISTINCT tenant_id::text FROM ${sharedTables.mobile_money_references} WHERE finalized_at IS NULL`),
    );
    if (sweep) lastSweep = Date.now();
    for (const r of rows) {
      if (stopped) return;
      const tenant = await runtime.directory.resolve(r.tenant_id);
      if (!tenant) continue;
      await dueIn(tenant, sweep).catch((err: unknown) => log.warn({ tenantId: tenant.id, err: (err as Error).message }, 'mobile-money pass failed'));
    }
  }

  function tick(): Promise<void> {
    ticking ??= tickOnce().finally(() => {
      ticking = null;
    });
    return ticking;
  }

  return {
    start() {
      if (timer || stopped) return;
      timer = setInterval(() => {
        void track(tick().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'mobile-money tick failed')));
      }, env.MOMO_WORKER_TICK_MS);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      await Promise.allSettled([...inflight]);
    },
    kick(tenant, ids) {
      if (stopped) return;
      for (const id of ids) {
        void track(work(tenant, id, true).catch((err: unknown) => log.warn({ tenantId: tenant.id, attemptId: id, err: (err as Error).message }, 'mobile-money work failed')));
      }
    },
    async tenantOf(reference) {
      const rows = await runtime.data
        .shared({ kind: 'platform' }, null)
        .transaction((tx) => tx.sql.query<{ tenant_id: string }>(sql`SELECT tenant_id::text FROM ${sharedTables.mobile_money_references} WHERE reference = ${reference}::uuid`));
      return rows[0] ? runtime.directory.resolve(rows[0].tenant_id) : null;
    },
    tick,
    async pollDue(tenant) {
      await dueIn(tenant, true);
      // Past its window an attempt is settled at its next check, but its backoff may put that
      // check far off (or a process stopped holding it): ask now, and settle it either way.
      const late = await tenantDb(tenant).sql.query<{ id: string }>(
        sql`SELECT id::text FROM ${tables.payment_attempts}
            WHERE finalized_at IS NULL AND state = 'PENDING' AND expires_at < now() AND (locked_until IS NULL OR locked_until < now())
            ORDER BY expires_at LIMIT 50`,
      );
      await Promise.all(late.map((d) => work(tenant, d.id, true)));
    },
  };
}

export type { PaymentAttempt };
