import { bindRequest } from '@umi/subgraph';
import type { MutationResolvers } from '../generated/resolvers';
import type { TenantContext } from '../context';
import { createLoaders } from '../loaders';
import { login, logout, refresh, type AuthResult } from '../services/auth';
import { createBranch } from '../services/branches';
import { updateSettings } from '../services/settings';
import { provisionTenant } from '../services/tenants';
import { createUser } from '../services/users';
import { createApiClient, issueClientToken, revokeApiClient } from '../services/api-clients';

/**
 * The request acts from now on as the user who just signed in (its scopes and loaders are rebound),
 * so the payload's `user` resolves as that user, under that user's tenant.
 */
async function signedIn(ctx: TenantContext, result: AuthResult) {
  await bindRequest(ctx, result.principal, createLoaders);
  const user = await ctx.loaders.userById.load(result.principal.userId);
  if (!user) throw new Error(`user ${result.principal.userId} vanished after signing in`);
  return { accessToken: result.accessToken, refreshToken: result.refreshToken, expiresIn: result.expiresIn, user };
}

export const Mutation: MutationResolvers = {
  createApiClient: (_, args, ctx) => createApiClient(ctx, args.input),
  revokeApiClient: (_, args, ctx) => revokeApiClient(ctx, args.id),
  issueClientToken: (_, args, ctx) => issueClientToken(ctx, args),
  // Signing in or out changes user rows and tokens (last login), not the tenant's other cached data.
  login: async (_, args, ctx) => {
    ctx.cache.touches('users');
    return signedIn(ctx, await login(ctx, args));
  },
  refreshToken: async (_, args, ctx) => {
    ctx.cache.touches('users');
    return signedIn(ctx, await refresh(ctx, args.refreshToken));
  },
  logout: (_, args, ctx) => {
    ctx.cache.touches('users');
    return logout(ctx, args.refreshToken);
  },
  createTenant: async (_, args, ctx) => {
    const id = await provisionTenant(ctx, args.input);
    const tenant = await ctx.loaders.tenantById.load(id);
    if (!tenant) throw new Error(`tenant ${id} vanished after provisioning`);
    return tenant;
  },
  createBranch: (_, args, ctx) => createBranch(ctx, args.input),
  createUser: (_, args, ctx) => createUser(ctx, args.input),
  updateTenantSettings: (_, args, ctx) => updateSettings(ctx, args.input),
};
