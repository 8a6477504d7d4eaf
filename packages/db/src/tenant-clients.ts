import { PrismaPg } from '@prisma/adapter-pg';
import { LRUCache } from 'lru-cache';
import type { Pool } from 'pg';
import { PrismaClient } from './generated/tenant/client';
import { assertTenantSchema } from './identifiers';
import { TRANSACTION_OPTIONS } from './shared-db';
import { tenantDb, type TenantDb } from './tenant-db';

export type TenantClient = PrismaClient;

interface Entry {
  client: TenantClient;
  /** The restricted view services get: models and tagged SQL bound to the schema. */
  db: TenantDb;
}

/** Clients that were evicted stay usable this long for requests already holding them. */
const EVICTION_GRACE_MS = 30_000;

/**
 * A bounded cache of Prisma clients, one per tenant schema, all over ONE pool: the number of
 * PostgreSQL connections is the pool's size whatever the number of tenants, and memory is bounded
 * by `maxClients`. Keys are validated schema names from the shared tenants table, never input.
 */
export class TenantClients {
  private readonly cache: LRUCache<string, Entry>;
  private created = 0;

  constructor(private readonly pool: Pool, maxClients: number) {
    this.cache = new LRUCache<string, Entry>({
      max: maxClients,
      dispose: ({ client }) => {
        // Disconnecting a client over an external pool only detaches its listener; the pool stays.
        setTimeout(() => void client.$disconnect().catch(() => {}), EVICTION_GRACE_MS).unref();
      },
    });
  }

  private entry(schema: string): Entry {
    let entry = this.cache.get(schema);
    if (!entry) {
      const client = new PrismaClient({ adapter: new PrismaPg(this.pool, { schema: assertTenantSchema(schema) }), transactionOptions: TRANSACTION_OPTIONS });
      entry = { client, db: tenantDb(client, schema, this.pool) };
      this.cache.set(schema, entry);
      this.created += 1;
    }
    return entry;
  }

  /** The full Prisma client bound to `schema` (created on first use): data-layer code only. */
  get(schema: string): TenantClient {
    return this.entry(schema).client;
  }

  /** The view of `schema` that requests and services get: models, tagged SQL, transactions. */
  db(schema: string): TenantDb {
    return this.entry(schema).db;
  }

  /** Clients alive now and created since start (for metrics and tests). */
  stats(): { cached: number; created: number } {
    return { cached: this.cache.size, created: this.created };
  }

  async close(): Promise<void> {
    const entries = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(entries.map((e) => e.client.$disconnect()));
  }
}
