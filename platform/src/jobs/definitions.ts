import type { Pool } from 'pg';
import { ensureSalePartitions, type TenantRecord } from '@umi/db';
import { publishOutbox, type EventBus } from '@umi/events';
import type { Env, Logger } from '@umi/kit';
import type { SubgraphRuntime } from '@umi/subgraph';
import { warnExpiringForTenant, writeOffExpiredForTenant } from '@umi/subgraph-inventory';
import { anonymiseInactivePatients, purgeControlledRegisterOf } from '@umi/subgraph-pharmacy';
import { archiveAuditLogs } from '@umi/subgraph-tenant';
import type { PosRetries } from '@umi/subgraph-pos';

/** What a job may use: built once per runner process. */
export interface JobDeps {
  env: Env;
  logger: Logger;
  /** Tenant-scoped data access as the application role (the subgraphs' own). */
  runtime: SubgraphRuntime;
  /** Application-role pool for work outside a request's scope (the outbox sweep, the fiscal queues). */
  appPool: Pool;
  /** The schema owner's pool, for maintenance the application role may not do (retention, partitions). */
  ownerPool: Pool;
  /** The owner's pool of the server holding the tenant's schema (placement): tenant maintenance goes there. */
  ownerPoolOf: (t: TenantRecord) => Pool;
  /** The application role's pool of the server holding the tenant's schema. */
  appPoolOf: (t: TenantRecord) => Pool;
  /** Where the outbox sweep republishes; null when nothing in reach would hear it (no Redis, own process). */
  bus: EventBus | null;
  pos: PosRetries;
}

/** One run of a job: its queue, pg-boss's id (the correlation id of what it writes) and its clock. */
export interface JobRunInfo {
  job: string;
  runId: string;
  now: Date;
}

/** How often a job may run for one tenant: its schedule's fan-out keys a run to (tenant, job, period). */
export type JobPeriod = 'minute' | 'hour' | 'day';

export interface JobDefinition {
  /** The pg-boss queue: letters, digits, underscores (it is also the metrics' `queue` label). */
  name: string;
  /** What it does, for the README and logs. */
  description: string;
  /** When it is fanned out (cron, UTC). */
  cron: string;
  /** One job per active tenant, or one for the whole platform. */
  scope: 'tenant' | 'platform';
  period: JobPeriod;
  /** Retries after a failed run (pg-boss), each `retryDelaySeconds` later, doubling. */
  retryLimit: number;
  retryDelaySeconds: number;
  run(deps: JobDeps, tenant: TenantRecord | null, run: JobRunInfo): Promise<unknown>;
}

type Options = Partial<Pick<JobDefinition, 'retryLimit' | 'retryDelaySeconds'>>;

/** A job run once per active tenant and period. */
export function tenantJob(
  name: string,
  cron: string,
  period: JobPeriod,
  description: string,
  run: (deps: JobDeps, tenant: TenantRecord, info: JobRunInfo) => Promise<unknown>,
  opts: Options = {},
): JobDefinition {
  return {
    name,
    cron,
    period,
    description,
    scope: 'tenant',
    retryLimit: opts.retryLimit ?? 3,
    retryDelaySeconds: opts.retryDelaySeconds ?? 30,
    run: (deps, tenant, info) => run(deps, tenant!, info),
  };
}

/** A job run once per period for the whole platform. */
export function platformJob(
  name: string,
  cron: string,
  period: JobPeriod,
  description: string,
  run: (deps: JobDeps, info: JobRunInfo) => Promise<unknown>,
  opts: Options = {},
): JobDefinition {
  return {
    name,
    cron,
    period,
    description,
    scope: 'platform',
    retryLimit: opts.retryLimit ?? 3,
    retryDelaySeconds: opts.retryDelaySeconds ?? 60,
    run: (deps, _tenant, info) => run(deps, info),
  };
}

/**
 * The domain's scheduled work (each handler lives with its domain; this only says when). The outbox
 * sweep and the retries are safety nets behind the relay's, the pos process's and the fiscal
 * worker's own loops, so every 5 minutes: each tick is a run per tenant in pg-boss's tables.
 */
export const CORE_JOBS: JobDefinition[] = [
  // Hourly, because each branch's date turns at its own midnight; a run with nothing expired writes nothing.
  tenantJob('inventory_expiry_write_off', '5 * * * *', 'hour', 'Writes off batches past their expiry date (branch-local), with ledger movements and controlled-register lines, as system:jobs', (d, t, i) =>
    writeOffExpiredForTenant(d.runtime, t, i),
  ),
  tenantJob('inventory_expiry_warning', '15 * * * *', 'hour', 'Announces batches reaching 90, 60 and 30 days before expiry (inventory.expiry_warning, once per batch and threshold)', (d, t, i) =>
    warnExpiringForTenant(d.runtime, t, i),
  ),
  tenantJob('events_outbox_sweep', '*/5 * * * *', 'minute', 'Republishes outbox events still unpublished JOBS_OUTBOX_STUCK_SECONDS after their commit', async (d, t) => {
    if (!d.bus) return { skipped: 'no event bus in reach (set REDIS_URL)' };
    return { published: await publishOutbox({ pool: d.appPoolOf(t), bus: d.bus, schema: t.schemaName, tenantId: t.id, olderThanSeconds: d.env.JOBS_OUTBOX_STUCK_SECONDS }) };
  }),
  tenantJob('pos_payment_retry', '*/5 * * * *', 'minute', 'Mobile-money status calls due, and PENDING payments past their window settled', (d, t) => d.pos.payments(t), { retryLimit: 1 }),
  tenantJob('pos_fiscal_retry', '*/5 * * * *', 'minute', 'Fiscal (VSDC) documents whose retry is due, sent again', (d, t) => d.pos.fiscal(t), { retryLimit: 1 }),
];

/**
 * Retention: one line per job. Each function takes (ownerPool, { id, schemaName }, now, logger), is
 * idempotent and reads the tenant's own retention settings; `npm run retention` runs the same pair
 * by hand over every tenant.
 */
export const RETENTION_JOBS: JobDefinition[] = [
  tenantJob('tenant_audit_archive', '40 2 * * *', 'day', "Moves audit entries past the tenant's auditLogRetentionDays to the archive", (d, t, i) => archiveAuditLogs(d.ownerPoolOf(t), t, i.now, d.logger)),
  tenantJob('pharmacy_patient_anonymise', '50 2 * * *', 'day', "Anonymises patients inactive past the tenant's patientInactivityRetentionYears", (d, t, i) =>
    anonymiseInactivePatients(d.ownerPoolOf(t), t, i.now, d.logger),
  ),
  tenantJob('pharmacy_register_retention', '30 2 * * *', 'day', "Deletes controlled-register lines past the tenant's retention period (never under 5 years)", (d, t) =>
    purgeControlledRegisterOf(d.ownerPoolOf(t), t, d.logger),
  ),
];

/** Database upkeep: one line per job. */
export const MAINTENANCE_JOBS: JobDefinition[] = [
  // Provisioning makes the first months; this keeps three months ahead, so no sale waits on a CREATE TABLE.
  tenantJob('db_sale_partitions', '20 1 * * *', 'day', "Makes the coming months' partitions of sales and sale_items", (d, t, i) => ensureSalePartitions(d.ownerPoolOf(t), t.schemaName, i.now)),
];

/** Every job the runner schedules. */
export const JOBS: JobDefinition[] = [...CORE_JOBS, ...RETENTION_JOBS, ...MAINTENANCE_JOBS];
