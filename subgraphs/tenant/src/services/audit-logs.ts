import { z } from 'zod';
import { BadUserInputError, parseInput, uuidSchema } from '@umi/kit';
import { requireTenant } from '@umi/subgraph';
import type { TenantContext } from '../context';

const argsSchema = z.object({
  entityType: z.string().trim().max(100).nullish(),
  first: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100'),
  after: z.string().max(200).nullish(),
});

/** Opaque keyset cursor: the row's time and id, so pages stay stable while rows are appended. */
function encodeCursor(timestamp: Date, id: string): string {
  return Buffer.from(`${timestamp.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { timestamp: Date; id: string } {
  const [ts, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const timestamp = new Date(ts ?? '');
  if (!id || Number.isNaN(timestamp.getTime()) || !uuidSchema.safeParse(id).success) throw new BadUserInputError('after: invalid cursor');
  return { timestamp, id };
}

/** The tenant's audit trail, newest first, keyset-paginated. */
export async function listAuditLogs(ctx: TenantContext, rawArgs: unknown) {
  const { db } = requireTenant(ctx);
  const args = parseInput(argsSchema, rawArgs, 'args');
  const after = args.after ? decodeCursor(args.after) : null;
  const rows = await db.auditLog.findMany({
    where: {
      ...(args.entityType ? { entityType: args.entityType } : {}),
      ...(after ? { OR: [{ timestamp: { lt: after.timestamp } }, { timestamp: after.timestamp, id: { lt: after.id } }] } : {}),
    },
    orderBy: [{ timestamp: 'desc' }, { id: 'desc' }],
    take: args.first + 1,
  });
  const page = rows.slice(0, args.first);
  const last = page[page.length - 1];
  return {
    edges: page.map((node) => ({ cursor: encodeCursor(node.timestamp, node.id), node })),
    pageInfo: { hasNextPage: rows.length > args.first, endCursor: last ? encodeCursor(last.timestamp, last.id) : null },
  };
}
