import { z } from 'zod';
import { BadUserInputError, parseInput, uuidSchema } from '@umi/kit';
import type { AuditLog, AuditLogArchive } from '@umi/db/tenant-models';
import { requireTenant } from '@umi/subgraph';
import type { TenantContext } from '../context';

const argsSchema = z.object({
  entityType: z.string().trim().max(100).nullish(),
  archived: z.boolean().nullish(),
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

/** An archived entry as the live table held it (the archive keeps the row as `to_jsonb` wrote it). */
function fromArchive(a: AuditLogArchive): AuditLog {
  const e = a.entry as Record<string, unknown>;
  const text = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : null);
  return {
    id: a.id,
    branchId: text('branch_id'),
    userId: text('user_id') ?? '',
    action: text('action') ?? '',
    entityType: a.entityType,
    entityId: text('entity_id'),
    oldValues: (e.old_values ?? null) as AuditLog['oldValues'],
    newValues: (e.new_values ?? null) as AuditLog['newValues'],
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
    correlationId: text('correlation_id'),
    sessionId: text('session_id'),
    timestamp: a.occurredAt,
    metadata: (e.metadata ?? {}) as AuditLog['metadata'],
  };
}

/**
 * The tenant's audit trail, newest first, keyset-paginated: the live log, or with `archived` the
 * entries the retention job moved out of it (same order, same cursors).
 */
export async function listAuditLogs(ctx: TenantContext, rawArgs: unknown) {
  const { db } = requireTenant(ctx);
  const args = parseInput(argsSchema, rawArgs, 'args');
  const after = args.after ? decodeCursor(args.after) : null;
  const rows = args.archived
    ? (
        await db.auditLogArchive.findMany({
          where: {
            ...(args.entityType ? { entityType: args.entityType } : {}),
            ...(after ? { OR: [{ occurredAt: { lt: after.timestamp } }, { occurredAt: after.timestamp, id: { lt: after.id } }] } : {}),
          },
          orderBy: [{ occurredAt: 'desc' }, { id: 'desc' }],
          take: args.first + 1,
        })
      ).map(fromArchive)
    : await db.auditLog.findMany({
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
