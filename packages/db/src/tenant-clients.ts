import { PrismaPg } from '@prisma/adapter-pg';
import { LRUCache } from 'lru-cache';
import type { Pool } from 'pg';
import { PrismaClient } from './generated/tenant/client';
import { assertTenantSchema } from './identifiers';
import { TRANSACTION_OPTIONS } from './shared-db';
import { tenantDb, type TenantDb } from './tenant-db';

export type TenantClient = PrismaClient;

interface Entry {
  /**
   * Built on first use of a model or a transaction: a Prisma client costs milliseconds and a few
   * hundred KiB, which a request that only runs tagged SQL (the hot reads) never needs.
   */
  client: TenantClient | null;
  /** The restricted view services get: models and tagged SQL bound to the schema. */
  db: TenantDb;
  /** Left the cache: a client built for a request still holding the view is disconnected after the grace too. */
  evicted: boolean;
}

/** Clients that were evicted stay usable this long for requests already holding them. */
const EVICTION_GRACE_MS = 30_000;

/** Disconnecting a client over an external pool only detaches its listener; the pool stays. */
function retire(client: TenantClient): void {
  setTimeout(() => void client.$disconnect().catch(() => {}), EVICTION_GRACE_MS).unref();
}

/**
 * A bounded cache of Prisma clients, one per tenant schema, all over ONE pool: the number of
 * PostgreSQL connections is the pool's size whatever the number of tenants, and memory is bounded
 * by `maxClients`. Keys are validated schema names from the shared tenants table, never input.
 */
export class TenantClients {
  private readonly cache: LRUCache<string, Entry>;
  private created = 0;
  private prismaClients = 0;

  constructor(private readonly pool: Pool, maxClients: number) {
    this.cache = new LRUCache<string, Entry>({
      max: maxClients,
      dispose: (entry) => {
        entry.evicted = true;
        if (entry.client) retire(entry.client);
      },
    });
  }

  private entry(schema: string): Entry {
    let entry = this.cache.get(schema);
    if (!entry) {
      assertTenantSchema(schema);
      const e: Entry = { client: null, db: null as unknown as TenantDb, evicted: false };
      e.db = tenantDb(() => this.clientOf(e, schema), schema, this.pool);
      entry = e;
      this.cache.set(schema, entry);
      this.created += 1;
    }
    return entry;
  }

  private clientOf(entry: Entry, schema: string): TenantClient {
    if (!entry.client) {
      entry.client = new PrismaClient({ adapter: new PrismaPg(this.pool, { schema }), transactionOptions: TRANSACTION_OPTIONS });
      this.prismaClients += 1;
      if (entry.evicted) retire(entry.client);
    }
    return entry.client;
  }

  /** The full Prisma client bound to `schema` (created on first use): data-layer code only. */
  get(schema: string): TenantClient {
    const entry = this.entry(schema);
    return this.clientOf(entry, schema);
  }

  /** The view of `schema` that requests and services get: models, tagged SQL, transactions. */
  db(schema: string): TenantDb {
    return this.entry(schema).db;
  }

  /**
   * Schemas cached now, their views created since start, and the Prisma clients built since start
   * (fewer than views when requests used tagged SQL only): for metrics and tests.
   */
  stats(): { cached: number; created: number; prismaClients: number } {
    return { cached: this.cache.size, created: this.created, prismaClients: this.prismaClients };
  }

  async close(): Promise<void> {
    const clients = [...this.cache.values()].flatMap((e) => (e.client ? [e.client] : []));
    this.cache.clear();
    await Promise.all(clients.map((c) => c.$disconnect()));
  }
}
