import type { TenantDeps } from '../context';
import { hashPassword, verifyPassword } from './passwords';

/**
 * Creates the platform operator from SUPER_ADMIN_EMAIL / SUPER_ADMIN_PASSWORD, or updates its
 * password when it changed, so the environment stays the source of truth for that account.
 */
export async function ensureSuperAdmin(deps: Pick<TenantDeps, 'env' | 'data' | 'logger'>): Promise<void> {
  const { SUPER_ADMIN_EMAIL: email, SUPER_ADMIN_PASSWORD: password } = deps.env;
  if (!email || !password) return;
  const address = email.toLowerCase();
  const platform = deps.data.shared({ kind: 'platform' }, null);
  const existing = await platform.transaction((tx) =>
    tx.user.findFirst({ where: { email: address, tenantId: null }, select: { id: true, passwordHash: true, isActive: true } }),
  );
  if (existing && existing.isActive && (await verifyPassword(existing.passwordHash, password))) return;
  const passwordHash = await hashPassword(password);
  await platform.transaction(async (tx) => {
    if (existing) {
      await tx.user.update({ where: { id: existing.id }, data: { passwordHash, isActive: true, deletedAt: null } });
    } else {
      await tx.user.create({ data: { email: address, passwordHash, firstName: 'Platform', lastName: 'Operator', role: 'SUPER_ADMIN' } });
    }
  });
  deps.logger.info({ email: address }, existing ? 'platform operator password updated' : 'platform operator created');
}
