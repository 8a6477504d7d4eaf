import { tenantDatabaseUrls } from '@umi/kit';
import { isTenantSchemaGone } from './pools';
import { ServerPools, serverUrls } from './servers';
import { sql, tableKinds, tables, sharedTables } from './sql';

describe('placement helpers', () => {
  it('parses TENANT_DATABASE_URLS into names and URLs, refusing primary, duplicates and non-postgres URLs', () => {
    expect(tenantDatabaseUrls.parse('pg2=postgres://u:p@h2:5432/db, pg3=postgresql://h3/db')).toEqual({ pg2: 'postgres://u:p@h2:5432/db', pg3: 'postgresql://h3/db' });
    expect(tenantDatabaseUrls.parse('')).toEqual({});
    for (const bad of ['primary=postgres://h/db', 'pg2=postgres://a/b,pg2=postgres://c/d', 'pg2=http://h/db', 'PG2=postgres://h/db', 'postgres://h/db']) {
      expect(tenantDatabaseUrls.safeParse(bad).success).toBe(false);
    }
  });

  it('opens a server pool only when first asked for, and refuses a server not configured', () => {
    const made: string[] = [];
    const pools = new ServerPools(serverUrls('postgres://primary/db', { pg2: 'postgres://two/db' }), (url) => {
      made.push(url);
      return { end: async () => {} } as never;
    });
    expect(pools.servers()).toEqual(['primary', 'pg2']);
    expect(made).toEqual([]);
    pools.pool('pg2');
    pools.pool('pg2');
    expect(made).toEqual(['postgres://two/db']);
    expect(() => pools.pool('pg9')).toThrow(/not configured/);
  });

  it('tells which kinds of table a statement names, nested fragments included', () => {
    expect(tableKinds(sql`SELECT 1 FROM ${tables.audit_logs}`)).toEqual({ tenant: true, shared: false });
    expect(tableKinds(sql`SELECT 1 FROM ${sharedTables.users} WHERE ${sql`id IN (SELECT user_id FROM ${tables.sales})`}`)).toEqual({ tenant: true, shared: true });
    expect(tableKinds(sql`SELECT 1`)).toEqual({ tenant: false, shared: false });
  });

  it('recognises a missing tenant table (pg and Prisma raw-query shapes), not a missing shared one', () => {
    expect(isTenantSchemaGone({ code: '42P01', message: 'relation "tenant_abc.sales" does not exist' })).toBe(true);
    const prismaRaw = { code: 'P2010', message: 'Raw query failed', meta: { driverAdapterError: { cause: { originalCode: '42P01', originalMessage: 'relation "tenant_abc.idempotency_keys" does not exist' } } } };
    expect(isTenantSchemaGone({ originalError: prismaRaw })).toBe(true);
    expect(isTenantSchemaGone({ code: '42P01', message: 'relation "shared.users" does not exist' })).toBe(false);
    expect(isTenantSchemaGone({ code: '23505', message: 'duplicate key in tenant_abc.sales' })).toBe(false);
  });
});
