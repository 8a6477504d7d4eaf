import { BadUserInputError, canViewBranch, parseInput, permissionsSchema, uuidSchema, type Principal } from '@umi/kit';
import type { SharedDb } from '@umi/db';
import { requireTenant, type TenantScope } from './context';

/**
 * The witness of a write-off or destruction of controlled stock: a second user of the caller's
 * tenant, active, not the caller, who may see the branch. Missing: BAD_USER_INPUT reason
 * WITNESS_REQUIRED; anyone else (the caller, a stranger, another tenant's user, a user without the
 * branch): reason WITNESS_INVALID, the same answer for each so no user id is confirmed. Resolves
 * to the witness's id.
 */
export async function requireWitness(
  ctx: { scope: TenantScope | null; shared: SharedDb },
  witnessUserId: string | null | undefined,
  branchId: string,
  field: string,
): Promise<string> {
  const { tenant, principal } = requireTenant(ctx);
  if (!witnessUserId) {
    throw new BadUserInputError(`${field}: writing off or destroying a controlled substance needs a witness`, { reason: 'WITNESS_REQUIRED', field });
  }
  const id = parseInput(uuidSchema, witnessUserId, field).toLowerCase();
  const invalid = () =>
    new BadUserInputError(`${field}: the witness must be another active user of the pharmacy with access to the branch`, { reason: 'WITNESS_INVALID', field });
  if (id === principal.userId) throw invalid();
  const user = await ctx.shared.transaction((tx) =>
    tx.user.findFirst({
      where: { id, tenantId: tenant.id, isActive: true, deletedAt: null },
      select: { id: true, email: true, role: true, permissions: true, branches: { select: { branchId: true } } },
    }),
  );
  if (!user) throw invalid();
  const witness: Principal = {
    userId: user.id,
    email: user.email,
    role: user.role as Principal['role'],
    tenantId: tenant.id,
    tenantSubdomain: tenant.subdomain,
    branchIds: user.branches.map((b) => b.branchId),
    permissions: permissionsSchema.parse(user.permissions ?? {}),
  };
  if (!canViewBranch(witness, branchId)) throw invalid();
  return user.id;
}
