import { z } from 'zod';
import Decimal from 'decimal.js';
import { BadUserInputError, ConflictError, NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit, tenantTable, lockRow } from '@umi/db';
import type { TillSession } from '@umi/db/src/generated/tenant/client';
import { auditOf, requireBranch } from '../access';
import { tenantScope, type PosContext } from '../context';
import { decimalString } from '../pricing';

export async function createTill(ctx: PosContext, args: { branchId: string; name: string }) {
  const { db, tenant } = tenantScope(ctx);
  const branch = await requireBranch(ctx, args.branchId, 'manage');
  const name = parseInput(z.string().trim().min(1, 'is required').max(100), args.name, 'name');
  return db.$transaction(async (tx) => {
    const till = await tx.till.create({ data: { branchId: branch.id, name } });
    await recordAudit(tx, tenant.schemaName, { ...auditOf(ctx), action: 'CREATE', entityType: 'Till', entityId: till.id, branchId: branch.id, newValues: till });
    return till;
  });
}

export function listTills(ctx: PosContext, branchId: string) {
  return requireBranch(ctx, branchId, 'view').then((branch) =>
    tenantScope(ctx).db.till.findMany({ where: { branchId: branch.id }, orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
  );
}

const openSchema = z.object({ tillId: uuidSchema, openingFloat: z.string() });

/** Opens a session with a cash float; one open session per till (a second is CONFLICT). */
export async function openTill(ctx: PosContext, input: unknown) {
  const { db, tenant } = tenantScope(ctx);
  const data = parseInput(openSchema, input);
  const float = decimalString(data.openingFloat, 'input.openingFloat');
  const till = await db.till.findUnique({ where: { id: data.tillId } });
  if (!till) throw new NotFoundError('Till', { field: 'input.tillId' });
  await requireBranch(ctx, till.branchId, 'sell', 'input.tillId');
  if (!till.isActive) throw new BadUserInputError('input.tillId: the till is inactive');
  return db.$transaction(async (tx) => {
    const open = await tx.tillSession.findFirst({ where: { tillId: till.id, status: 'OPEN' }, select: { id: true } });
    if (open) throw new ConflictError('The till already has an open session');
    const session = await tx.tillSession.create({ data: { tillId: till.id, branchId: till.branchId, openedBy: ctx.principal!.userId, openingFloat: float.toFixed(2) } });
    await recordAudit(tx, tenant.schemaName, { ...auditOf(ctx), action: 'OPEN', entityType: 'TillSession', entityId: session.id, branchId: till.branchId, newValues: session });
    return session;
  });
}

export interface ZReportData {
  salesCount: number;
  grossSales: string;
  refundsCount: number;
  refundsAmount: string;
  taxAmount: string;
  tenders: { method: string; amount: string }[];
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
  const { tenant } = tenantScope(ctx);
  const t = (name: string) => tenantTable(tenant.schemaName, name);
  const [sales, tenders, refunds] = await Promise.all([
    ctx.deps.appPool.query<{ n: number; gross: string; tax: string }>(
      `SELECT count(*)::int AS n, coalesce(sum(total_amount), 0)::text AS gross, coalesce(sum(tax_amount), 0)::text AS tax
       FROM ${t('sales')} WHERE till_session_id = $1::uuid AND status IN ('COMPLETED', 'REFUNDED') AND payment_status IN ('PAID', 'REFUNDED')`,
      [session.id],
    ),
    ctx.deps.appPool.query<{ method: string; taken: string; returned: string }>(
      `SELECT p.method,
              coalesce(sum(p.amount) FILTER (WHERE p.status IN ('COMPLETED', 'REFUNDED')), 0)::text AS taken,
              coalesce(sum(p.amount) FILTER (WHERE p.status = 'REFUNDED' AND r.till_session_id = $1::uuid), 0)::text AS returned
       FROM ${t('payments')} p JOIN ${t('sales')} s ON s.id = p.sale_id LEFT JOIN ${t('refunds')} r ON r.sale_id = s.id
       WHERE s.till_session_id = $1::uuid GROUP BY p.method ORDER BY p.method`,
      [session.id],
    ),
    ctx.deps.appPool.query<{ n: number; amount: string }>(
      `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS amount FROM ${t('refunds')} WHERE till_session_id = $1::uuid`,
      [session.id],
    ),
  ]);
  const float = new Decimal(session.openingFloat.toString());
  const byMethod = tenders.rows.map((r) => ({ method: r.method, amount: new Decimal(r.taken).minus(r.returned) }));
  const cash = byMethod.find((m) => m.method === 'CASH')?.amount ?? new Decimal(0);
  const expected = session.expectedCash ? new Decimal(session.expectedCash.toString()) : float.plus(cash);
  return {
    salesCount: sales.rows[0]!.n,
    grossSales: new Decimal(sales.rows[0]!.gross).toFixed(2),
    refundsCount: refunds.rows[0]!.n,
    refundsAmount: new Decimal(refunds.rows[0]!.amount).toFixed(2),
    taxAmount: new Decimal(sales.rows[0]!.tax).toFixed(2),
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
  const { db, tenant } = tenantScope(ctx);
  const data = parseInput(closeSchema, input);
  const counted = decimalString(data.countedCash, 'input.countedCash');
  const found = await db.tillSession.findUnique({ where: { id: data.sessionId } });
  if (!found) throw new NotFoundError('Till session', { field: 'input.sessionId' });
  await requireBranch(ctx, found.branchId, 'sell', 'input.sessionId');
  return db.$transaction(async (tx) => {
    await lockRow(tx, tenant.schemaName, 'till_sessions', found.id);
    const session = await tx.tillSession.findUniqueOrThrow({ where: { id: found.id } });
    if (session.status !== 'OPEN') throw new ConflictError('The till session is already closed');
    const report = await zReport(ctx, session);
    const expected = new Decimal(report.expectedCash);
    const closed = await tx.tillSession.update({
      where: { id: session.id },
      data: {
        status: 'CLOSED',
        closedAt: new Date(),
        closedBy: ctx.principal!.userId,
        countedCash: counted.toFixed(2),
        expectedCash: expected.toFixed(2),
        variance: counted.minus(expected).toFixed(2),
      },
    });
    await recordAudit(tx, tenant.schemaName, {
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
