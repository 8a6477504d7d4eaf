import { canManageBranch, canSellAt, canViewBranch, canViewReportsOf, type Principal } from './principal';

const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa1';
const B = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa2';
const C = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaa3';
const base = (role: Principal['role'], branchIds: string[], permissions: Partial<Principal['permissions']> = {}): Principal => ({
  userId: '33333333-3333-4333-8333-333333333333',
  email: 'u@t.test',
  role,
  tenantId: role === 'SUPER_ADMIN' ? null : '11111111-1111-4111-8111-111111111111',
  tenantSubdomain: role === 'SUPER_ADMIN' ? null : 't',
  branchIds,
  permissions: { canViewAllBranches: false, canManageAllBranches: false, canTransferStock: false, canViewReports: [], canProcessSales: [], ...permissions },
});

describe('branch permission matrix', () => {
  it('lets tenant-wide roles see, sell, report and manage everywhere, and the platform operator nowhere in a tenant', () => {
    for (const role of ['ADMIN', 'OPERATIONS'] as const) {
      const p = base(role, []);
      expect([canViewBranch(p, C), canSellAt(p, C), canViewReportsOf(p, C), canManageBranch(p, C)]).toEqual([true, true, true, true]);
    }
    const op = base('SUPER_ADMIN', []);
    expect([canViewBranch(op, A), canSellAt(op, A), canViewReportsOf(op, A), canManageBranch(op, A)]).toEqual([false, false, false, false]);
  });

  it('keeps cashiers to their branches, plus where they may sell or report (which they may then see)', () => {
    const cashier = base('CASHIER', [A], { canProcessSales: [B], canViewReports: [C] });
    expect([A, B, C].map((b) => canViewBranch(cashier, b))).toEqual([true, true, true]);
    expect([A, B, C].map((b) => canSellAt(cashier, b))).toEqual([true, true, false]);
    expect([A, B, C].map((b) => canViewReportsOf(cashier, b))).toEqual([false, false, true]);
    expect(canManageBranch(cashier, A)).toBe(false);
    expect(canViewBranch(base('CASHIER', [A]), B)).toBe(false);
  });

  it('lets pharmacists manage their own branches only, unless they may manage all', () => {
    expect([A, B].map((b) => canManageBranch(base('PHARMACIST', [A]), b))).toEqual([true, false]);
    expect(canManageBranch(base('PHARMACIST', [A], { canManageAllBranches: true }), B)).toBe(true);
    expect(canViewBranch(base('PHARMACIST', [A], { canViewAllBranches: true }), B)).toBe(true);
  });
});
