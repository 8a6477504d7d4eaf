import type { Pool } from 'pg';
import type { TenantRecord } from '@umi/db';
import { createFieldCipher, parseKeyring } from '@umi/kit';
import type { SubgraphRuntime } from '@umi/subgraph';
import { createMobileMoneyWorker } from '../services/mobile-money/worker';
import { createFiscalSender } from './fiscal-worker';

/**
 * The till's later retries as one-shot, per-tenant passes for the scheduled jobs: mobile-money
 * status calls due (and attempts PENDING past their window, settled), and the fiscal queues whose
 * retry is due. Both use the same claims and locks as the pos process's timer and the fiscal
 * worker, so running beside them sends nothing twice.
 */
export function createPosRetries(runtime: SubgraphRuntime, pool: Pool) {
  const { env, logger } = runtime;
  const cipher = env.PATIENT_DATA_KEYS ? createFieldCipher(parseKeyring(env.PATIENT_DATA_KEYS)) : null;
  // Never started: no timer of its own, only the passes the jobs ask for.
  const momo = createMobileMoneyWorker(runtime, cipher);
  const fiscal = createFiscalSender({
    pool,
    logger,
    retryBaseMs: env.FISCAL_RETRY_BASE_MS,
    retryMaxMs: env.FISCAL_RETRY_MAX_MS,
    stockSyncLagMs: env.FISCAL_STOCK_SYNC_LAG_MS,
  });
  return {
    /** Mobile-money attempts of the tenant due a status call, or past their window. */
    payments: (tenant: TenantRecord) => momo.pollDue(tenant),
    /** The tenant's fiscal queues, documents due a retry sent again. */
    fiscal: (tenant: TenantRecord) => fiscal.retryDue(tenant),
    async close(): Promise<void> {
      fiscal.stop();
      await momo.stop();
    },
  };
}
export type PosRetries = ReturnType<typeof createPosRetries>;
