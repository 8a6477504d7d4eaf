import { z } from 'zod';
import { NotFoundError, parseInput, uuidSchema } from '@umi/kit';
import { recordAudit } from '@umi/db';
import { requireTenant } from '@umi/subgraph';
import { auditOf } from '../policy';
import type { PharmacyContext } from '../context';

const ATC = /^[A-Z]\d{2}([A-Z]([A-Z](\d{2})?)?)?$/;
/** A key is an ATC code or prefix (kept upper case) or an ingredient's INN (lower case). */
const key = z
  .string()
  .trim()
  .min(2)
  .max(100)
  .transform((k) => (ATC.test(k.toUpperCase()) ? k.toUpperCase() : k.toLowerCase()));

const ruleSchema = z
  .object({
    leftKey: key,
    rightKey: key,
    severity: z.enum(['CONTRAINDICATED', 'MAJOR', 'MODERATE', 'MINOR']),
    message: z.string().trim().min(5).max(1000),
    source: z.string().trim().max(500).nullish(),
  })
  .refine((r) => r.leftKey !== r.rightKey, { message: 'must differ from leftKey', path: ['rightKey'] });

/** Adds one of the tenant's own interaction groups (checked beside the shipped list). */
export async function createInteractionRule(ctx: PharmacyContext, input: unknown) {
  const { db, principal } = requireTenant(ctx);
  const data = parseInput(ruleSchema, input);
  return db.transaction(async (tx) => {
    const rule = await tx.interactionRule.create({ data: { ...data, source: data.source ?? null, createdBy: principal.userId } });
    await recordAudit(tx, { ...auditOf(ctx), action: 'CREATE', entityType: 'InteractionRule', entityId: rule.id, newValues: rule });
    return rule;
  });
}

export async function deactivateInteractionRule(ctx: PharmacyContext, id: string) {
  const { db } = requireTenant(ctx);
  const ruleId = parseInput(uuidSchema, id, 'id');
  return db.transaction(async (tx) => {
    const found = await tx.interactionRule.findUnique({ where: { id: ruleId } });
    if (!found) throw new NotFoundError('Interaction rule', { field: 'id' });
    const rule = await tx.interactionRule.update({ where: { id: ruleId }, data: { isActive: false } });
    await recordAudit(tx, { ...auditOf(ctx), action: 'DEACTIVATE', entityType: 'InteractionRule', entityId: rule.id, oldValues: found, newValues: rule });
    return rule;
  });
}

export function listInteractionRules(ctx: PharmacyContext) {
  return requireTenant(ctx).db.interactionRule.findMany({ orderBy: [{ leftKey: 'asc' }, { rightKey: 'asc' }] });
}
