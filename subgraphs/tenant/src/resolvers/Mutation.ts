import type { Principal } from '@umi/kit';
import { actAs, type TenantContext } from '../context';
import * as auth from '../services/auth';
import { provisionTenant } from '../services/tenants';
import { createBranch } from '../services/branches';
import { createUser } from '../services/users';
import { updateSettings } from '../services/settings';

type Authed = TenantContext & { principal: Principal };

async function payload(ctx: TenantContext, result: auth.AuthResult) {
  await actAs(ctx, result.principal);
  return { ...result, user: await ctx.loaders.userById.load(result.principal.userId) };
}

export const Mutation = {
  login: async (_: unknown, args: { email: string; password: string; tenant?: string | null }, ctx: TenantContext) =>
    payload(ctx, await auth.login(ctx.deps, ctx, args)),

  refreshToken: async (_: unknown, args: { refreshToken: string }, ctx: TenantContext) =>
    payload(ctx, await auth.refresh(ctx.deps, ctx, args.refreshToken)),

  logout: (_: unknown, args: { refreshToken: string }, ctx: TenantContext) => auth.logout(ctx.deps, ctx, args.refreshToken),

  createTenant: async (_: unknown, args: { input: unknown }, ctx: TenantContext) => {
    const id = await provisionTenant(ctx.deps, ctx as Authed, args.input);
    return ctx.loaders.tenantById.load(id);
  },

  createBranch: (_: unknown, args: { input: unknown }, ctx: TenantContext) => createBranch(ctx.deps, ctx as Authed, ctx.tenant!, args.input),

  createUser: (_: unknown, args: { input: unknown }, ctx: TenantContext) => createUser(ctx.deps, ctx as Authed, ctx.tenant!, args.input),

  updateTenantSettings: (_: unknown, args: { input: unknown }, ctx: TenantContext) => updateSettings(ctx.deps, ctx as Authed, ctx.tenant!, args.input),
};
