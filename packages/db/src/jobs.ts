import { sql, type SqlRunner } from './sql';

/** One job queue as the platform operator sees it (pg-boss's tables, read through `shared.job_queue_status()`). */
export interface JobQueueRow {
  name: string;
  pending: number;
  active: number;
  failed24h: number;
  completed24h: number;
  oldestPendingSeconds: number;
}

/**
 * The runner's queues: waiting, running, failed and completed in the last 24 hours, and how long the
 * oldest due job has waited. The caller's transaction must be in the platform scope (`app.platform`):
 * the function refuses anyone else. No rows before the job runner first started.
 */
export async function readJobQueues(tx: { readonly sql: SqlRunner }): Promise<JobQueueRow[]> {
  const rows = await tx.sql.query<{ name: string; pending: string; active: string; failed_24h: string; completed_24h: string; oldest_pending_seconds: number }>(
    sql`SELECT name, pending::text, active::text, failed_24h::text, completed_24h::text, oldest_pending_seconds FROM "shared".job_queue_status()`,
  );
  return rows.map((r) => ({
    name: r.name,
    pending: Number(r.pending),
    active: Number(r.active),
    failed24h: Number(r.failed_24h),
    completed24h: Number(r.completed_24h),
    oldestPendingSeconds: Number(r.oldest_pending_seconds),
  }));
}
