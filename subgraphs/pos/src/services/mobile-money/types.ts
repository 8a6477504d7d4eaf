import type { TenantRecord } from '@umi/db';

/**
 * The mobile-money worker as the rest of the process sees it. Its own module, so that the request
 * context can name it without importing the worker (which imports the services that use the context).
 */
export interface MobileMoneyWorker {
  start(): void;
  stop(): Promise<void>;
  /** Works on these attempts of the tenant now (after the sale's commit, or on a callback's hint). */
  kick(tenant: TenantRecord, attemptIds: string[]): void;
  /** The tenant a reference belongs to, from the platform's index (never from a callback's body). */
  tenantOf(reference: string): Promise<TenantRecord | null>;
  /** Runs one pass over every attempt due (tests and the timer). */
  tick(): Promise<void>;
  /**
   * One pass over a single tenant (the scheduled `pos.payment-retry` job): attempts due a status
   * call, and attempts still PENDING after their window, which are asked once more and settled.
   */
  pollDue(tenant: TenantRecord): Promise<void>;
}
