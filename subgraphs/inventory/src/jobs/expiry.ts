import { SYSTEM_USER_ID, sql, sharedTables, tables, type TenantRecord } from '@umi/db';
import { recordEvents, type NewEvent } from '@umi/events';
import { addDays } from '@umi/kit';
import type { StockActor } from '@umi/ledger';
import type { SubgraphRuntime } from '@umi/subgraph';
import { branchToday } from '../policy';
import { writeOffExpiredAt } from '../services/stock';

/** Who the scheduled jobs act as, in audit rows (metadata.actor) and on ledger actors. */
export const SYSTEM_JOBS_ACTOR = 'system:jobs';

/**
 * Days before expiry at which a batch is announced (`inventory.expiry_warning`), widest first. No
 * tenant setting names these yet; when one does, the job reads it instead of this constant.
 */
export const EXPIRY_WARNING_DAYS = [90, 60, 30] as const;

/** Where the job's work is told apart from a person's: the job's name and run go into the audit metadata. */
export interface JobRun {
  /** The job's name, e.g. `inventory.expiry-write-off`. */
  job: string;
  /** The job's id (pg-boss's), the correlation id of what it writes. */
  runId: string;
}

function systemActor(tenant: TenantRecord, run: JobRun): StockActor {
  return { tenantId: tenant.id, userId: null, isPharmacist: false, correlationId: run.runId, service: 'inventory', system: SYSTEM_JOBS_ACTOR };
}

/**
 * Writes off, at every branch of the tenant, the batches past their expiry date on that branch's
 * own calendar, through the same code as the `writeOffExpiredStock` mutation (ledger movements,
 * register lines for controlled products, EXPIRED status, an audit row), as the system. One
 * transaction per branch; a run with nothing expired writes nothing, so running it twice (or on
 * two runners at once: the (branch, product) locks queue them) writes off each batch once.
 */
export async function writeOffExpiredForTenant(runtime: SubgraphRuntime, tenant: TenantRecord, run: JobRun): Promise<{ batches: number }> {
  const db = runtime.data.tenantDb(tenant);
  let batches = 0;
  for (const branch of await runtime.branches.list(tenant.id)) {
    if (branch.deletedAt) continue;
    const written = await db.transaction((tx) =>
      writeOffExpiredAt(
        tx,
        systemActor(tenant, run),
        { userId: SYSTEM_USER_ID, correlationId: run.runId, metadata: { actor: SYSTEM_JOBS_ACTOR, job: run.job } },
        branch,
        async () => null,
      ),
    );
    batches += written.length;
  }
  return { batches };
}

interface Candidate {
  id: string;
  product_id: string;
  batch_number: string;
  expiry_date: string;
  quantity_on_hand: number;
}

/**
 * Announces batches nearing expiry: for each sellable batch with stock whose expiry date is within
 * a threshold of the branch's date (and not yet past), one `inventory.expiry_warning` event naming
 * the tightest threshold reached, recorded with the thresholds it covers in `shared.expiry_warnings`
 * in the same transaction. A batch first seen at 25 days gets one warning (30), not three; later
 * runs find every reached threshold remembered and say nothing. Runs of the same tenant queue on
 * an advisory lock, so two runners cannot both warn.
 */
export async function warnExpiringForTenant(
  runtime: SubgraphRuntime,
  tenant: TenantRecord,
  run: JobRun,
  thresholds: readonly number[] = EXPIRY_WARNING_DAYS,
): Promise<{ warned: number }> {
  const widest = Math.max(...thresholds);
  let warned = 0;
  for (const branch of await runtime.branches.list(tenant.id)) {
    if (branch.deletedAt) continue;
    const today = branchToday(branch);
    warned += await runtime.data.shared({ kind: 'tenant', tenantId: tenant.id }, tenant).transaction(async (tx) => {
      await tx.sql.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`umi-expiry-warning:${tenant.id}`}, 0))`);
      const batches = await tx.sql.query<Candidate>(
        sql`SELECT id::text, product_id::text, batch_number, to_char(expiry_date, 'YYYY-MM-DD') AS expiry_date, quantity_on_hand FROM ${tables.inventory_batches}
            WHERE branch_id = ${branch.id}::uuid AND status = 'AVAILABLE' AND quantity_on_hand > 0
              AND expiry_date > ${today}::date AND expiry_date <= ${addDays(today, widest)}::date
            ORDER BY expiry_date, id`,
      );
      if (batches.length === 0) return 0;
      const known = await tx.sql.query<{ batch_id: string; threshold_days: number }>(
        sql`SELECT batch_id::text, threshold_days FROM ${sharedTables.expiry_warnings}
            WHERE tenant_id = ${tenant.id}::uuid AND batch_id = ANY(${batches.map((b) => b.id)}::uuid[])`,
      );
      const done = new Set(known.map((k) => `${k.batch_id}:${k.threshold_days}`));
      const due: { batch: Candidate; daysLeft: number; reached: number[] }[] = [];
      for (const b of batches) {
        const daysLeft = Math.round((Date.parse(`${b.expiry_date}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000);
        const reached = thresholds.filter((t) => daysLeft <= t && !done.has(`${b.id}:${t}`));
        if (reached.length > 0) due.push({ batch: b, daysLeft, reached });
      }
      if (due.length === 0) return 0;
      const events: NewEvent[] = due.map(({ batch, daysLeft, reached }) => ({
        eventType: 'inventory.expiry_warning',
        serviceName: 'inventory',
        aggregateId: batch.id,
        data: {
          batchId: batch.id,
          productId: batch.product_id,
          branchId: branch.id,
          batchNumber: batch.batch_number,
          expiryDate: batch.expiry_date,
          quantityOnHand: batch.quantity_on_hand,
          daysLeft,
          thresholdDays: Math.min(...reached),
        },
        metadata: { tenantId: tenant.id, branchId: branch.id, userId: null, correlationId: run.runId },
      }));
      const ids = await recordEvents(tx, events);
      const rows = due.flatMap((d, i) => d.reached.map((t) => ({ batchId: d.batch.id, threshold: t, eventId: ids[i]! })));
      await tx.sql.execute(
        sql`INSERT INTO ${sharedTables.expiry_warnings} (tenant_id, batch_id, threshold_days, event_id)
            SELECT ${tenant.id}::uuid, b, t, e FROM unnest(${rows.map((r) => r.batchId)}::uuid[], ${rows.map((r) => r.threshold)}::int[], ${rows.map((r) => r.eventId)}::uuid[]) AS x(b, t, e)`,
      );
      return due.length;
    });
  }
  return { warned };
}
