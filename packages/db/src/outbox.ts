import { assertTenantSchema, quoteIdent } from './identifiers';

/** Anything with Prisma's raw SQL methods: a tenant client or one of its transactions. */
export interface RawSql {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** Topics of the event bus (the design document's event types). */
export type EventType = 'sale.completed' | 'inventory.updated' | 'inventory.low_stock' | 'prescription.dispensed' | 'user.created';

/** The envelope's metadata: whose event it is, for tenant-scoped delivery and tracing. */
export interface EventMetadata {
  tenantId: string;
  branchId: string | null;
  userId: string | null;
  correlationId: string | null;
}

export interface NewEvent {
  eventType: EventType;
  serviceName: string;
  aggregateId: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
}

/** The tenant schema's qualified table name; the schema is validated, never client input. */
export function tenantTable(schema: string, table: string): string {
  return `${quoteIdent(assertTenantSchema(schema))}.${quoteIdent(table)}`;
}

/**
 * Writes an event to the tenant's transactional outbox in the caller's transaction: the event
 * exists exactly when the change it reports commits. The outbox row's id is the eventId and its
 * created_at the timestamp; the relay publishes it and marks it published.
 */
export async function recordEvent(tx: RawSql, schema: string, e: NewEvent): Promise<string> {
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
    `INSERT INTO ${tenantTable(schema, 'outbox')} (event_type, aggregate_id, branch_id, payload)
     VALUES ($1, $2::uuid, $3::uuid, $4::jsonb) RETURNING id::text`,
    e.eventType,
    e.aggregateId,
    e.metadata.branchId,
    JSON.stringify({ serviceName: e.serviceName, data: e.data, metadata: e.metadata }),
  );
  return rows[0]!.id;
}

/**
 * Takes the next number of a named gapless sequence (e.g. `sale:LSK01`). The sequence row stays
 * locked until commit, so callers take it as late in their transaction as they can.
 */
export async function nextNumber(tx: RawSql, schema: string, name: string): Promise<number> {
  const rows = await tx.$queryRawUnsafe<{ n: string }[]>(
    `INSERT INTO ${tenantTable(schema, 'number_sequences')} (name, next_value) VALUES ($1, 2)
     ON CONFLICT (name) DO UPDATE SET next_value = number_sequences.next_value + 1
     RETURNING (next_value - 1)::text AS n`,
    name,
  );
  return Number(rows[0]!.n);
}

/** Locks one row of a tenant table (by id) for the rest of the caller's transaction. */
export async function lockRow(tx: RawSql, schema: string, table: string, id: string): Promise<void> {
  await tx.$queryRawUnsafe(`SELECT 1 FROM ${tenantTable(schema, table)} WHERE id = $1::uuid FOR UPDATE`, id);
}
