import { bindSql, render, sharedTables, sql, tables, type RawExecutor } from './sql';

describe('tagged tenant SQL', () => {
  it('binds table tokens to the scope schema and every value as a parameter', () => {
    const id = "x'; DROP TABLE sales; --";
    const q = render(sql`SELECT * FROM ${tables.sales} s JOIN ${tables.sale_items} i ON i.sale_id = s.id WHERE s.id = ${id} AND s.total > ${5}`, 'tenant_acme');
    expect(q.text).toBe('SELECT * FROM "tenant_acme"."sales" s JOIN "tenant_acme"."sale_items" i ON i.sale_id = s.id WHERE s.id = $1 AND s.total > $2');
    expect(q.values).toEqual([id, 5]);
  });

  it('numbers parameters across nested fragments and joins in order', () => {
    const conds = [sql`a = ${1}`, sql`b = ${'two'}`, sql`c IN (SELECT id FROM ${tables.products} WHERE sku = ${'s'})`];
    const q = render(sql`SELECT 1 FROM ${tables.outbox} WHERE ${sql.join(conds, ' AND ')} LIMIT ${10}`, 'tenant_acme');
    expect(q.text).toBe('SELECT 1 FROM "tenant_acme"."outbox" WHERE a = $1 AND b = $2 AND c IN (SELECT id FROM "tenant_acme"."products" WHERE sku = $3) LIMIT $4');
    expect(q.values).toEqual([1, 'two', 's', 10]);
  });

  it('renders shared tables in any scope and refuses tenant tables without one', () => {
    expect(render(sql`SELECT id FROM ${sharedTables.tenants}`, null).text).toBe('SELECT id FROM "shared"."tenants"');
    expect(() => render(sql`SELECT id FROM ${tables.sales}`, null)).toThrow(/outside a tenant scope/);
  });

  it('refuses a schema name that is not a tenant schema', () => {
    expect(() => render(sql`SELECT 1 FROM ${tables.sales}`, 'public')).toThrow();
    expect(() => render(sql`SELECT 1 FROM ${tables.sales}`, 'tenant_a"; DROP SCHEMA x; --')).toThrow();
    expect(() => bindSql({} as RawExecutor, 'shared')).toThrow();
  });

  it('treats strings as parameters, never as SQL text, unless raw is asked for', () => {
    const order = 'created_at DESC';
    expect(render(sql`SELECT 1 ORDER BY ${order}`, null).text).toBe('SELECT 1 ORDER BY $1');
    expect(render(sql`SELECT 1 ORDER BY ${sql.raw(order)}`, null).text).toBe('SELECT 1 ORDER BY created_at DESC');
  });

  it('makes rows alike whichever driver ran them: numeric and bigint as strings, undefined as null', async () => {
    const seen: unknown[][] = [];
    const executor: RawExecutor = {
      async $queryRawUnsafe<T>(_text: string, ...values: unknown[]) {
        seen.push(values);
        const decimal = new (class Decimal2 {
          toFixed() {
            return '1.50';
          }
          toString() {
            return '1.5';
          }
        })();
        return [{ n: decimal, b: 7n, d: new Date(0), s: 'x' }] as T;
      },
      async $executeRawUnsafe() {
        return 3;
      },
    };
    const runner = bindSql(executor, 'tenant_acme');
    const row = await runner.one(sql`SELECT ${undefined} AS u FROM ${tables.sales}`);
    expect(row).toEqual({ n: '1.5', b: '7', d: new Date(0), s: 'x' });
    expect(seen[0]).toEqual([null]);
    await expect(runner.execute(sql`DELETE FROM ${tables.outbox}`)).resolves.toBe(3);
  });

  it('one() and maybeOne() hold the caller to the row count it expects', async () => {
    const rows = (n: number): RawExecutor => ({
      async $queryRawUnsafe<T>() {
        return Array.from({ length: n }, (_, i) => ({ i })) as T;
      },
      async $executeRawUnsafe() {
        return 0;
      },
    });
    await expect(bindSql(rows(0), null).maybeOne(sql`SELECT 1`)).resolves.toBeNull();
    await expect(bindSql(rows(0), null).one(sql`SELECT 1`)).rejects.toThrow(/expected one row/);
    await expect(bindSql(rows(2), null).maybeOne(sql`SELECT 1`)).rejects.toThrow(/at most one/);
  });
});
