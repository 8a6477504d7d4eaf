import { z } from 'zod';
import Decimal from 'decimal.js';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit, sql, tables, type SqlRunner } from '@umi/db';
import type { TillSession } from '@umi/db/tenant-models';
import { lockRow } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { auditOf, mayCloseSession, requireBranch } from '../policy';
import { PosReason } from '../reasons';
import type { PosContext } from '../context';
import { decimalString, type PaymentMethod } from '@umi/supply';

export async function createTill(ctx: PosContext, args: { branchId: string; name: string }) {
  const { db } = requireTenant(ctx);
  const branch = await requireBranch(ctx, args.branchId, 'manage');
  const name = parseInput(z.string().trim().min(1, 'is required').max(100), args.name, 'name');
  return db.transaction(async (tx) => {
    const till = await tx.till.create({ data: { branchId: branch.id, name } });
    await recordAudit(tx, { ...auditOf(ctx), action: 'CREATE', entityType: 'Till', entityId: till.id, branchId: branch.id, newValues: till });
    return till;
  });
}

export function listTills(ctx: PosContext, branchId: string) {
  return requireBranch(ctx, branchId, 'view').then((branch) =>
    requireTenant(ctx).db.till.findMany({ where: { branchId: branch.id }, orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
  );
}

const openSchema = z.object({ tillId: uuidSchema, openingFloat: z.string() });

/** Opens a session with a cash float; one open session per till (a second is CONFLICT). */
export async function openTill(ctx: PosContext, input: unknown) {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(openSchema, input);
  const float = decimalString(data.openingFloat, 'input.openingFloat');
  const till = await db.till.findUnique({ where: { id: data.tillId } });
  if (!till) throw new NotFoundError('Till', { field: 'input.tillId' });
  await requireBranch(ctx, till.branchId, 'sell', 'input.tillId');
  if (!till.isActive) throw new BadUserInputError('input.tillId: the till is inactive');
  return db.transaction(async (tx) => {
    const open = await tx.tillSession.findFirst({ where: { tillId: till.id, status: 'OPEN' }, select: { id: true } });
    if (open) throw new ConflictError('The till already has an open session');
    const session = await tx.tillSession.create({ data: { tillId: till.id, branchId: till.branchId, openedBy: principal.userId, openingFloat: float.toFixed(2) } });
    await recordAudit(tx, { ...auditOf(ctx), action: 'OPEN', entityType: 'TillSession', entityId: session.id, branchId: till.branchId, newValues: session });
    return session;
  });
}

export interface ZReportData {
  /** Whether the session is still open (the blind cash-up rule reads it). */
  sessionOpen: boolean;
  salesCount: number;
  grossSales: string;
  refundsCount: number;
  refundsAmount: string;
  refundsTaxAmount: string;
  taxAmount: string;
  tenders: { method: PaymentMethod; amount: string }[];
  paidOut: { method: PaymentMethod; amount: string }[];
  openingFloat: string;
  expectedCash: string;
  countedCash: string | null;
  variance: string | null;
}

/** A day either side of a session: far more than a sale's transaction can start before it opened or commit after it closed. */
const SESSION_MARGIN_MS = 86_400_000;

/**
 * The Z-report's sales of a session. The time bound is there for partition pruning only (sales are
 * partitioned by month, 0010): a session's sales are made while it is open, so the months of
 * [opened - 1 day, closed (or now) + 1 day] hold them all, and usually that is one partition.
 */
export function zReportSalesStatement(session: Pick<TillSession, 'id' | 'openedAt' | 'closedAt'>, now: Date = new Date()) {
  const from = new Date(session.openedAt.getTime() - SESSION_MARGIN_MS);
  const to = new Date((session.closedAt ?? now).getTime() + SESSION_MARGIN_MS);
  return sql`SELECT count(*)::int AS n, coalesce(sum(total_amount), 0)::text AS gross, coalesce(sum(tax_amount), 0)::text AS tax
          FROM ${tables.sales} WHERE till_session_id = ${session.id}::uuid AND status <> 'VOIDED'
            AND created_at >= ${from}::timestamptz AND created_at < ${to}::timestamptz`;
}

/**
 * The session's Z-report, computed only from rows booked to it: the sales made in it (not voided),
 * the payments it received per method, the money it paid out per method (refunds, and voided
 * payments handed back), the refunds it paid, and the cash the drawer should hold (float + cash
 * received - cash paid out). Nothing is booked to a closed session (a trigger refuses it), so a
 * closed session's report never changes.
 */
export async function zReportOf(runner: { sql: SqlRunner }, session: TillSession): Promise<ZReportData> {
  const [sales, received, paidOut, refunds] = await Promise.all([
    runner.sql.one<{ n: number; gross: string; tax: string }>(zReportSalesStatement(session)),
    runner.sql.query<{ method: PaymentMethod; amount: string }>(
      sql`SELECT method, sum(amount)::text AS amount FROM ${tables.payments}
          WHERE till_session_id = ${session.id}::uuid AND status IN ('COMPLETED', 'REFUNDED') GROUP BY method`,
    ),
    runner.sql.query<{ method: PaymentMethod; amount: string }>(
      sql`SELECT method, sum(amount)::text AS amount FROM ${tables.payouts} WHERE till_session_id = ${session.id}::uuid GROUP BY method`,
    ),
    runner.sql.one<{ n: number; amount: string; tax: string }>(
      sql`SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS amount, coalesce(sum(tax_amount), 0)::text AS tax
          FROM ${tables.refunds} WHERE till_session_id = ${session.id}::uuid`,
    ),
  ]);
  const zero = new Decimal(0);
  const inOf = new Map(received.map((r) => [r.method, new Decimal(r.amount)]));
  const outOf = new Map(paidOut.map((r) => [r.method, new Decimal(r.amount)]));
  const methods = [...new Set([...inOf.keys(), ...outOf.keys()])].sort();
  const float = new Decimal(session.openingFloat.toString());
  const cash = (inOf.get('CASH') ?? zero).minus(outOf.get('CASH') ?? zero);
  const expected = session.expectedCash ? new Decimal(session.expectedCash.toString()) : float.plus(cash);
  return {
    sessionOpen: session.status === 'OPEN',
    salesCount: sales.n,
    grossSales: new Decimal(sales.gross).toFixed(2),
    refundsCount: refunds.n,
    refundsAmount: new Decimal(refunds.amount).toFixed(2),
    refundsTaxAmount: new Decimal(refunds.tax).toFixed(2),
    taxAmount: new Decimal(sales.tax).toFixed(2),
    tenders: methods.map((method) => ({ method, amount: (inOf.get(method) ?? zero).minus(outOf.get(method) ?? zero).toFixed(2) })),
    paidOut: [...outOf].sort(([a], [b]) => a.localeCompare(b)).map(([method, amount]) => ({ method, amount: amount.toFixed(2) })),
    openingFloat: float.toFixed(2),
    expectedCash: expected.toFixed(2),
    countedCash: session.countedCash ? session.countedCash.toFixed(2) : null,
    variance: session.variance ? session.variance.toFixed(2) : null,
  };
}

/** The Z-report of a session as the caller reads it. */
export function zReport(ctx: PosContext, session: TillSession): Promise<ZReportData> {
  return zReportOf(requireTenant(ctx).db, session);
}

export { lockSessionShared, ownOpenSession } from '@umi/supply';

const closeSchema = z.object({ sessionId: uuidSchema, countedCash: z.string() });

/**
 * Closes a session with the cash counted; expected cash and the variance are fixed on it. Only the
 * user who opened it or a manager closes it, and not while a mobile-money request of the session
 * awaits its answer (declining it afterwards would void a sale of a closed session).
 */
export async function closeTill(ctx: PosContext, input: unknown) {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(closeSchema, input);
  const counted = decimalString(data.countedCash, 'input.countedCash');
  const found = await db.tillSession.findUnique({ where: { id: data.sessionId } });
  if (!found) throw new NotFoundError('Till session', { field: 'input.sessionId' });
  await requireBranch(ctx, found.branchId, 'sell', 'input.sessionId');
  if (!mayCloseSession(principal, found)) throw new ForbiddenError('Only the user who opened the session or a manager (ADMIN, OPERATIONS) may close it');
  return db.transaction(async (tx) => {
    await lockRow(tx, 'till_sessions', found.id);
    const session = await tx.tillSession.findUniqueOrThrow({ where: { id: found.id } });
    if (session.status !== 'OPEN') throw new ConflictError('The till session is already closed', { reason: PosReason.TILL_SESSION_CLOSED });
    const pending = await tx.payment.count({ where: { tillSessionId: session.id, status: 'PENDING' } });
    if (pending > 0) {
      throw new ConflictError(`${pending} mobile-money payment(s) of this session await an answer: approve or decline them before closing`, {
        reason: PosReason.TILL_SESSION_HAS_PENDING_PAYMENTS,
        pending,
      });
    }
    const report = await zReportOf(tx, session);
    const expected = new Decimal(report.expectedCash);
    const closed = await tx.tillSession.update({
      where: { id: session.id },
      data: {
        status: 'CLOSED',
        closedAt: new Date(),
        closedBy: principal.userId,
        countedCash: counted.toFixed(2),
        expectedCash: expected.toFixed(2),
        variance: counted.minus(expected).toFixed(2),
      },
    });
    await recordAudit(tx, {
      ...auditOf(ctx),
      action: 'CLOSE',
      entityType: 'TillSession',
      entityId: session.id,
      branchId: session.branchId,
      newValues: { countedCash: counted.toFixed(2), expectedCash: expected.toFixed(2) },
    });
    return closed;
  });
}
