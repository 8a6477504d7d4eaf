import { z } from 'zod';
import { parseInput } from '@umi/kit';
import { isValidSubdomain, type ProvisionHooks } from '@umi/db';
import { requirePrincipal } from '@umi/subgraph';
import type { TenantContext } from '../context';
import { hashPassword } from './passwords';
import { emailSchema, nameSchema, passwordSchema } from './validation';

/** Labels that name parts of the platform, never a tenant. */
const RESERVED_SUBDOMAINS = new Set(['www', 'api', 'app', 'admin', 'auth', 'mail', 'status', 'docs', 'platform', 'gateway', 'static']);

const createTenantSchema = z.object({
  name: z.string().trim().min(1).max(255),
  subdomain: z
    .string()
    .refine(isValidSubdomain, 'must be 3 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen')
    .refine((s) => !RESERVED_SUBDOMAINS.has(s), 'is reserved'),
  plan: z.string().trim().toLowerCase().min(1),
  adminEmail: emailSchema,
  adminPassword: passwordSchema,
  adminFirstName: nameSchema,
  adminLastName: nameSchema,
});

/**
 * Provisions a tenant (platform operator): its row, subscription, schema, migrations and first
 * ADMIN, all or nothing (see the provisioner). Resolves to the new tenant's id.
 */
export async function provisionTenant(ctx: TenantContext, input: unknown, hooks?: ProvisionHooks): Promise<string> {
  const principal = requirePrincipal(ctx);
  const data = parseInput(createTenantSchema, input);
  const passwordHash = await hashPassword(data.adminPassword);
  const tenantId = await ctx.deps.provisioner.provision(
    {
      name: data.name,
      subdomain: data.subdomain,
      plan: data.plan,
      admin: { email: data.adminEmail, passwordHash, firstName: data.adminFirstName, lastName: data.adminLastName },
    },
    { userId: principal.userId, ipAddress: ctx.ip, userAgent: ctx.userAgent, correlationId: ctx.requestId },
    hooks,
  );
  // A login attempt before the tenant existed may have cached its subdomain as unknown.
  ctx.deps.directory.invalidate([tenantId, data.subdomain]);
  ctx.logger.info({ tenantId, subdomain: data.subdomain }, 'tenant provisioned');
  return tenantId;
}
