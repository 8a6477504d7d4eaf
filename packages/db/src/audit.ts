import { assertTenantSchema, quoteIdent } from './identifiers';

/** Anything with Prisma's raw execute, e.g. a shared or tenant transaction client. */
interface RawExecutor {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

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
 * Appends an audit row to the tenant's `audit_logs` inside the caller's transaction, so the change
 * and its record commit or vanish together. Raw SQL because the tenant subgraph's transactions run
 * on the shared client; the schema name is validated, never taken from input.
 */
export async function recordAudit(tx: RawExecutor, schema: string, e: AuditEntry): Promise<void> {
  const table = `${quoteIdent(assertTenantSchema(schema))}.audit_logs`;
  await tx.$executeRawUnsafe(
    `INSERT INTO ${table} (branch_id, user_id, action, entity_type, entity_id, old_values, new_values, ip_address, user_agent, correlation_id, metadata)
     VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11::jsonb)`,
    e.branchId ?? null,
    e.userId,
    e.action,
    e.entityType,
    e.entityId,
    JSON.stringify(scrub(e.oldValues)),
    JSON.stringify(scrub(e.newValues)),
    e.ipAddress ?? null,
    e.userAgent ?? null,
    e.correlationId ?? null,
    JSON.stringify(e.metadata ?? {}),
  );
}
