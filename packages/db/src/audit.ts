import { sql, tables, type Sql, type SqlRunner } from './sql';

export interface AuditEntry {
  userId: string;
  action: string;
  entityType: string;
  entityId: string | null;
  branchId?: string | null;
  oldValues?: unknown;
  newValues?: unknown;
  ipAddress?: string | null;
  userAgent?: string | null;
  correlationId?: string | null;
  metadata?: Record<string, unknown>;
}

/** Keys never written to the audit trail, whatever entity they come from. */
const SECRET_KEYS = new Set(['password', 'passwordHash', 'password_hash', 'tokenHash', 'token_hash', 'medicalHistory']);

function scrub(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return JSON.parse(
    JSON.stringify(value, (k, v: unknown) => (SECRET_KEYS.has(k) ? '[redacted]' : typeof v === 'bigint' ? v.toString() : v)),
  );
}

/**
 * Appends an audit row to the tenant's `audit_logs` inside the caller's transaction (whose runner
 * is bound to the tenant's schema), so the change and its record commit or vanish together.
 */
export async function recordAudit(tx: { sql: SqlRunner }, e: AuditEntry): Promise<void> {
  await tx.sql.execute(
    sql`INSERT INTO ${tables.audit_logs} (branch_id, user_id, action, entity_type, entity_id, old_values, new_values, ip_address, user_agent, correlation_id, metadata)
        VALUES (${e.branchId ?? null}::uuid, ${e.userId}::uuid, ${e.action}, ${e.entityType}, ${e.entityId}, ${JSON.stringify(scrub(e.oldValues))}::jsonb,
                ${JSON.stringify(scrub(e.newValues))}::jsonb, ${e.ipAddress ?? null}, ${e.userAgent ?? null}, ${e.correlationId ?? null}, ${JSON.stringify(e.metadata ?? {})}::jsonb)`,
  );
}

/**
 * The same audit row as a statement to run inside another one, for a value only that statement
 * knows: it is inserted once per row of `from` (a CTE of the enclosing statement), with
 * `newValues` (a jsonb expression over those rows) merged into the entry's new values. Dispensing
 * records the sale number this way, in the statement that takes it (numberSale, @umi/supply).
 */
export function auditRowFrom(e: AuditEntry, merge: { from: Sql; newValues: Sql }): Sql {
  return sql`INSERT INTO ${tables.audit_logs} (branch_id, user_id, action, entity_type, entity_id, old_values, new_values, ip_address, user_agent, correlation_id, metadata)
    SELECT ${e.branchId ?? null}::uuid, ${e.userId}::uuid, ${e.action}, ${e.entityType}, ${e.entityId}, ${JSON.stringify(scrub(e.oldValues))}::jsonb,
           coalesce(${JSON.stringify(scrub(e.newValues))}::jsonb, '{}'::jsonb) || ${merge.newValues}, ${e.ipAddress ?? null}, ${e.userAgent ?? null},
           ${e.correlationId ?? null}, ${JSON.stringify(e.metadata ?? {})}::jsonb
    FROM ${merge.from}`;
}
