import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError, type Principal } from '@umi/kit';
import { sql, tables, type TenantTx } from '@umi/db';
import type { TillSession } from '@umi/db/tenant-models';
import { SupplyReason } from './reasons';

/**
 * Locks a session row FOR SHARE and reads it: a closing (FOR UPDATE) waits for the transaction, and
 * the transaction for a closing in progress; other bookings to the session (sales, dispensings,
 * refunds) do not wait for each other. Taken before any stock lock (see ./index.ts, lock order),
 * so a refund and a checkout never deadlock.
 */
export async function lockSessionShared(tx: TenantTx, id: string): Promise<TillSession | null> {
  const locked = await tx.sql.query(sql`SELECT 1 FROM ${tables.till_sessions} WHERE id = ${id}::uuid FOR SHARE`);
  return locked.length === 0 ? null : tx.tillSession.findUnique({ where: { id } });
}

/** A till session as a booking needs it: which one, whose, where, and whether it is open. */
export interface BookableSession {
  id: string;
  branchId: string;
  openedBy: string;
  status: string;
}

/**
 * The open session of `p` at the branch that a sale or money is booked to, locked (shared) until
 * the transaction ends. `requested` names it; otherwise it is the caller's one open session there.
 * None: CONFLICT NO_OPEN_TILL_SESSION; several: TILL_SESSION_AMBIGUOUS; the named one closed:
 * TILL_SESSION_CLOSED; another user's: FORBIDDEN. Found and locked in one statement (every
 * checkout runs it): a row a closing changed while we waited for it is re-checked against the
 * WHERE clause once locked, so a session closed meanwhile is not returned as open.
 */
export async function ownOpenSession(tx: TenantTx, p: Principal, branchId: string, requested: string | null | undefined, field: string): Promise<BookableSession> {
  const rows = await tx.sql.query<BookableSession>(
    requested
      ? sql`SELECT id::text AS "id", branch_id::text AS "branchId", opened_by::text AS "openedBy", status
            FROM ${tables.till_sessions} WHERE id = ${requested}::uuid FOR SHARE`
      : sql`SELECT id::text AS "id", branch_id::text AS "branchId", opened_by::text AS "openedBy", status
            FROM ${tables.till_sessions} WHERE branch_id = ${branchId}::uuid AND opened_by = ${p.userId}::uuid AND status = 'OPEN'
            LIMIT 2 FOR SHARE`,
  );
  if (!requested) {
    if (rows.length === 0) {
      throw new ConflictError('You have no open till session at this branch: open one first', { reason: SupplyReason.NO_OPEN_TILL_SESSION });
    }
    if (rows.length > 1) {
      throw new ConflictError(`You have several open till sessions at this branch: name one in ${field}`, { reason: SupplyReason.TILL_SESSION_AMBIGUOUS, field });
    }
  }
  const session = rows[0];
  if (!session) throw new NotFoundError('Till session', { field });
  if (session.branchId !== branchId) throw new BadUserInputError(`${field}: the till session belongs to another branch`, { field });
  if (session.openedBy !== p.userId) throw new ForbiddenError("Money is booked to your own till session, not to another user's");
  if (session.status !== 'OPEN') {
    throw new ConflictError('The till session is closed', { reason: requested ? SupplyReason.TILL_SESSION_CLOSED : SupplyReason.NO_OPEN_TILL_SESSION });
  }
  return session;
}
