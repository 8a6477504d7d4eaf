import { PrismaPg } from '@prisma/adapter-pg';
import { LRUCache } from 'lru-cache';
import type { Pool } from 'pg';
import { PrismaClient, Prisma } from './generated/tenant/client';
import { assertTenantSchema } from './identifiers';
import { TRANSACTION_OPTIONS } from './shared-db';

export { Prisma as TenantPrismaNs };
export type TenantClient = PrismaClient;
export type TenantTx = Prisma.TransactionClient;

/** Clients that were evicted stay usable this long for requests already holding them. */
const EVICTION_GRACE_MS = 30_000;

/**
 * A bounded cache of Prisma clients, one per tenant schema, all over ONE pool: the number of
 * PostgreSQL connections is the pool's size whatever the number of tenants, and memory is bounded
 * by `maxClients`. Keys are validated schema names from the shared tenants table, never input.
 */
export class TenantClients {
  private readonly cache: LRUCache<string, TenantClient>;
  private created = 0;

  constructor(private readonly pool: Pool, maxClients: number) {
    this.cache = new LRUCache<string, TenantClient>({
      max: maxClients,
      dispose: (client) => {
        // Disconnecting a client over an external pool only detaches its listener; the pool stays.
        setTimeout(() => void client.$disconnect().catch(() => {}), EVICTION_GRACE_MS).unref();
      },
    });
  }

  /** The client bound to `schema` (created on first use). */
  get(schema: string): TenantClient {
    let client = this.cache.get(schema);
    if (!client) {
      client = new PrismaClient({ adapter: new PrismaPg(this.pool, { schema: assertTenantSchema(schema) }), transactionOptions: TRANSACTION_OPTIONS });
      this.cache.set(schema, client);
      this.created += 1;
    }
    return client;
  }

  /** Clients alive now and created since start (for metrics and tests). */
  stats(): { cached: number; created: number } {
    return { cached: this.cache.size, created: this.created };
  }

  async close(): Promise<void> {
    const clients = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(clients.map((c) => c.$disconnect()));
  }
}
