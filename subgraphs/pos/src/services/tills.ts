import { z } from 'zod';
import Decimal from 'decimal.js';
import { BadUserInputError, ConflictError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit, sql, tables } from '@umi/db';
import type { TillSession } from '@umi/db/tenant-models';
import { lockRow } from '@umi/ledger';
import { requireTenant } from '@umi/subgraph';
import { auditOf, requireBranch } from '../policy';
import type { PosContext } from '../context';
import { decimalString, type PaymentMethod } from '../pricing';

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
  salesCount: number;
  grossSales: string;
  refundsCount: number;
  refundsAmount: string;
  taxAmount: string;
  tenders: { method: PaymentMethod; amount: string }[];
  openingFloat: string;
  expectedCash: string;
  countedCash: string | null;
  variance: string | null;
}

/**
 * The session's Z-report: paid sales and refunds recorded against it, completed payments per
 * method less refunded ones, and the cash that should be in the drawer (float + cash in - cash out).
 */
export async function zReport(ctx: PosContext, session: TillSession): Promise<ZReportData> {
  const { db } = requireTenant(ctx);
  const [sales, tenders, refunds] = await Promise.all([
    db.sql.one<{ n: number; gross: string; tax: string }>(
      sql`SELECT count(*)::int AS n, coalesce(sum(total_amount), 0)::text AS gross, coalesce(sum(tax_amount), 0)::text AS tax
          FROM ${tables.sales} WHERE till_session_id = ${session.id}::uuid AND status IN ('COMPLETED', 'REFUNDED') AND payment_status IN ('PAID', 'REFUNDED')`,
    ),
    db.sql.query<{ method: PaymentMethod; taken: string; returned: string }>(
      sql`SELECT p.method,
                 coalesce(sum(p.amount) FILTER (WHERE p.status IN ('COMPLETED', 'REFUNDED')), 0)::text AS taken,
                 coalesce(sum(p.amount) FILTER (WHERE p.status = 'REFUNDED' AND r.till_session_id = ${session.id}::uuid), 0)::text AS returned
          FROM ${tables.payments} p JOIN ${tables.sales} s ON s.id = p.sale_id LEFT JOIN ${tables.refunds} r ON r.sale_id = s.id
          WHERE s.till_session_id = ${session.id}::uuid GROUP BY p.method ORDER BY p.method`,
    ),
    db.sql.one<{ n: number; amount: string }>(
      sql`SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS amount FROM ${tables.refunds} WHERE till_session_id = ${session.id}::uuid`,
    ),
  ]);
  const float = new Decimal(session.openingFloat.toString());
  const byMethod = tenders.map((r) => ({ method: r.method, amount: new Decimal(r.taken).minus(r.returned) }));
  const cash = byMethod.find((m) => m.method === 'CASH')?.amount ?? new Decimal(0);
  const expected = session.expectedCash ? new Decimal(session.expectedCash.toString()) : float.plus(cash);
  return {
    salesCount: sales.n,
    grossSales: new Decimal(sales.gross).toFixed(2),
    refundsCount: refunds.n,
    refundsAmount: new Decimal(refunds.amount).toFixed(2),
    taxAmount: new Decimal(sales.tax).toFixed(2),
    tenders: byMethod.map((m) => ({ method: m.method, amount: m.amount.toFixed(2) })),
    openingFloat: float.toFixed(2),
    expectedCash: expected.toFixed(2),
    countedCash: session.countedCash ? session.countedCash.toFixed(2) : null,
    variance: session.variance ? session.variance.toFixed(2) : null,
  };
}

const closeSchema = z.object({ sessionId: uuidSchema, countedCash: z.string() });

/** Closes a session with the cash counted; expected and variance are fixed on the session. */
export async function closeTill(ctx: PosContext, input: unknown) {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(closeSchema, input);
  const counted = decimalString(data.countedCash, 'input.countedCash');
  const found = await db.tillSession.findUnique({ where: { id: data.sessionId } });
  if (!found) throw new NotFoundError('Till session', { field: 'input.sessionId' });
  await requireBranch(ctx, found.branchId, 'sell', 'input.sessionId');
  return db.transaction(async (tx) => {
    await lockRow(tx, 'till_sessions', found.id);
    const session = await tx.tillSession.findUniqueOrThrow({ where: { id: found.id } });
    if (session.status !== 'OPEN') throw new ConflictError('The till session is already closed');
    const report = await zReport(ctx, session);
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
