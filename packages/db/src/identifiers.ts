/** Names that end up inside SQL as identifiers: validated here, never concatenated from client input. */

const SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/;
const TENANT_SCHEMA = /^tenant_[a-z0-9_]{3,63}$/;
const ROLE = /^[a-z_][a-z0-9_]{0,62}$/;

/** True when `value` is a lowercase subdomain label of 3 to 63 characters ([a-z0-9-], no edge hyphen). */
export function isValidSubdomain(value: string): boolean {
  return SUBDOMAIN.test(value) && !value.includes('--');
}

/** The PostgreSQL schema that holds a tenant's data, derived from its validated subdomain. */
export function tenantSchemaName(subdomain: string): string {
  if (!isValidSubdomain(subdomain)) throw new Error(`invalid subdomain: ${subdomain}`);
  return `tenant_${subdomain.replace(/-/g, '_')}`;
}

/** Throws unless `schema` has the shape of a tenant schema name. */
export function assertTenantSchema(schema: string): string {
  if (!TENANT_SCHEMA.test(schema)) throw new Error(`not a tenant schema name: ${schema}`);
  return schema;
}

/** Throws unless `role` is a plain lowercase PostgreSQL role name. */
export function assertRoleName(role: string): string {
  if (!ROLE.test(role)) throw new Error(`not a role name: ${role}`);
  return role;
}

/** Double-quotes an identifier that has already been validated. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
