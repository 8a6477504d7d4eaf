// The period queries over sales read only the months they cover (sales and sale_items are
// partitioned by UTC month, tenant migration 0010): EXPLAIN of the very statements the services
// run (the sales report's four, the Z-report's sales) and of the sales list's shape (Prisma's
// findMany by branch and time range) names only the expected monthly partitions.
import { randomUUID } from 'node:crypto';
import { createTestDatabase, TestDatabase, TEST_APP_ROLE } from '@umi/testkit/database';
import { applyMigrations, ensureSalePartitions, inTransaction, render, sql, tables, type Sql } from '@umi/db';
import { salesReportStatements } from './sales';
import { zReportSalesStatement } from './tills';

const SCHEMA = 'tenant_pruning_test';

interface PlanNode {
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function relations(node: PlanNode, into = new Set<string>()): Set<string> {
  if (node['Relation Name']) into.add(node['Relation Name']);
  for (const child of node.Plans ?? []) relations(child, into);
  return into;
}

describe('period queries over sales prune to their months', () => {
  let db: TestDatabase;
  const branch = { id: randomUUID(), timezone: 'Africa/Lusaka' };

  beforeAll(async () => {
    db = await createTestDatabase();
    const c = await db.pool.connect();
    try {
      await inTransaction(c, () => applyMigrations(c, 'tenant', SCHEMA, TEST_APP_ROLE));
    } finally {
      c.release();
    }
    // All of 2026 and 2027 exist, so a query that failed to prune would name their partitions.
    await ensureSalePartitions(db.pool, SCHEMA, new Date(Date.UTC(2027, 11, 1)), 0, { since: new Date(Date.UTC(2026, 0, 1)) });
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** The sales/sale_items partitions a statement's plan reads (after initial pruning, as executed). */
  async function scanned(statement: Sql): Promise<{ parts: string[]; plan: string }> {
    const { text, values } = render(statement, SCHEMA);
    const { rows } = await db.pool.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
    const { rows: textPlan } = await db.pool.query(`EXPLAIN ${text}`, values);
    const parts = [...relations((rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan)].filter((r) => /^sales?(_items)?_/.test(r));
    return { parts: parts.sort(), plan: textPlan.map((r) => r['QUERY PLAN']).join('\n') };
  }

  it('salesReport: one local month reads that month (and the one before, where its first local hours fall in UTC)', async () => {
    // Lusaka is UTC+2: 1-31 March local is 28 Feb 22:00 UTC to 31 March 22:00 UTC.
    const q = salesReportStatements(branch, '2026-03-01', '2026-03-31');
    expect((await scanned(q.totals)).parts).toEqual(['sales_2026_02', 'sales_2026_03']);
    expect((await scanned(q.byDay)).parts).toEqual(['sales_2026_02', 'sales_2026_03']);
    const top = await scanned(q.top);
    expect(top.parts).toEqual(['sale_items_2026_02', 'sale_items_2026_03', 'sales_2026_02', 'sales_2026_03']);
    // A range inside one UTC month reads exactly one partition of each table.
    const mid = salesReportStatements(branch, '2026-06-10', '2026-06-20');
    const midTop = await scanned(mid.top);
    expect(midTop.parts).toEqual(['sale_items_2026_06', 'sales_2026_06']);
    expect((await scanned(mid.totals)).parts).toEqual(['sales_2026_06']);
    // The refunds statement does not read sales at all.
    expect((await scanned(q.refunds)).parts).toEqual([]);
    // eslint-disable-next-line no-console
    console.log(`EXPLAIN of salesReport's top products for 2026-06-10..2026-06-20:\n${midTop.plan}`);
  });

  it("a till session's Z-report reads the months around the session only", async () => {
    const open = zReportSalesStatement({ id: randomUUID(), openedAt: new Date('2026-09-14T06:00:00Z'), closedAt: null }, new Date('2026-09-14T18:00:00Z'));
    expect((await scanned(open)).parts).toEqual(['sales_2026_09']);
    // A session open over a month's end reads both months.
    const closed = zReportSalesStatement({ id: randomUUID(), openedAt: new Date('2026-10-31T20:00:00Z'), closedAt: new Date('2026-11-01T02:00:00Z') });
    expect((await scanned(closed)).parts).toEqual(['sales_2026_10', 'sales_2026_11']);
  });

  it('the sales list by date range (the shape Prisma sends for listSales) reads the range only', async () => {
    const list = sql`SELECT id, sale_number, created_at FROM ${tables.sales}
                     WHERE branch_id = ${branch.id}::uuid AND created_at >= ${new Date('2027-04-03T00:00:00Z')}::timestamptz
                       AND created_at < ${new Date('2027-05-02T00:00:00Z')}::timestamptz
                     ORDER BY created_at DESC, id DESC LIMIT ${51}`;
    expect((await scanned(list)).parts).toEqual(['sales_2027_04', 'sales_2027_05']);
  });
});
