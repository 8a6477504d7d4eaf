import { sql, tables, type SqlRunner } from '@umi/db';
import type { EventEnvelope, Topic } from './bus';

/** The envelope's metadata: whose event it is, for tenant-scoped delivery and tracing. */
export type EventMetadata = EventEnvelope['metadata'];

/** An event a change wants told, before the outbox gives it an id and a time. */
export interface NewEvent {
  eventType: Topic;
  serviceName: string;
  aggregateId: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
}

/**
 * The outbox row's payload: the only place an event's JSON is built. The row's own id and
 * created_at become the envelope's eventId and timestamp when the relay publishes it.
 */
export function outboxPayload(e: NewEvent): string {
  return JSON.stringify({ serviceName: e.serviceName, data: e.data, metadata: e.metadata });
}

/**
 * Writes an event to the tenant's transactional outbox in the caller's transaction: the event
 * exists exactly when the change it reports commits. Resolves to the eventId.
 */
export async function recordEvent(tx: { sql: SqlRunner }, e: NewEvent): Promise<string> {
  const row = await tx.sql.one<{ id: string }>(
    sql`INSERT INTO ${tables.outbox} (event_type, aggregate_id, branch_id, payload)
        VALUES (${e.eventType}, ${e.aggregateId}::uuid, ${e.metadata.branchId}::uuid, ${outboxPayload(e)}::jsonb) RETURNING id::text`,
  );
  return row.id;
}

/** Writes several events in one statement; resolves to their eventIds in order. */
export async function recordEvents(tx: { sql: SqlRunner }, events: NewEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = await tx.sql.query<{ id: string }>(
    sql`INSERT INTO ${tables.outbox} (event_type, aggregate_id, branch_id, payload)
        SELECT e.event_type, e.aggregate_id, e.branch_id, e.payload
        FROM unnest(${events.map((e) => e.eventType)}::text[], ${events.map((e) => e.aggregateId)}::uuid[], ${events.map((e) => e.metadata.branchId)}::uuid[],
                    ${events.map(outboxPayload)}::jsonb[], ${events.map((_, i) => i)}::int[]) AS e(event_type, aggregate_id, branch_id, payload, ord)
        ORDER BY e.ord
        RETURNING id::text`,
  );
  return rows.map((r) => r.id);
}
