import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { createFieldCipher, dateInZone, parseKeyring } from '@umi/kit';
import { exportTenant, importTenant, tenantSchemaName } from '@umi/db';
import { contractOperation as op, createTenant, createUser, createTestDatabase, ledgerBreaks, login, openTillSession, registerBreaks, startTestPlatform, type TenantFixture, type TestDatabase, type TestPlatform } from '@umi/testkit';
import { rekeyTenantCopy } from '../../subgraphs/pharmacy/src/jobs/reencrypt';

const KEYS = `1:${randomBytes(32).toString('base64')}`;
const TODAY = dateInZone('Africa/Lusaka');

/** A fingerprint of every row of one tenant: each table of its schema and its rows of the shared tables. */
async function fingerprint(pool: Pool, tenantId: string): Promise<Record<string, string>> {
  const { rows: t } = await pool.query<{ schema_name: string }>('SELECT schema_name FROM shared.tenants WHERE id = $1', [tenantId]);
  const schema = t[0]!.schema_name;
  const { rows: tables } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r','p') AND NOT c.relispartition ORDER BY 1`,
    [schema],
  );
  const out: Record<string, string> = {};
  const digest = async (key: string, from: string, where = '', args: unknown[] = []) => {
    const { rows } = await pool.query<{ h: string; n: number }>(
      `SELECT md5(coalesce(string_agg(row_to_json(x)::text, E'\\n' ORDER BY row_to_json(x)::text), '')) AS h, count(*)::int AS n FROM ${from} x ${where}`,
      args,
    );
    out[key] = `${rows[0]!.n}:${rows[0]!.h}`;
  };
  for (const { name } of tables) if (name !== 'umi_migrations') await digest(`tenant.${name}`, `"${schema}"."${name}"`);
  await digest('shared.tenants', 'shared.tenants', 'WHERE id = $1', [tenantId]);
  for (const table of ['branches', 'users', 'user_branches', 'subscriptions']) await digest(`shared.${table}`, `shared.${table}`, 'WHERE tenant_id = $1', [tenantId]);
  return out;
}

/**
 * Per-tenant backup and restore (`tenant:export` / `tenant:import`) on a tenant with sales,
 * prescriptions, encrypted patient history and controlled-register lines: a round trip into another
 * database gives back every row; a point-in-time restore replaces the live tenant; a copy beside
 * the original works under its own subdomain; no restore touches another tenant.
 */
describe('tenant backup and restore', () => {
  let p: TestPlatform;
  let a: TenantFixture;
  let b: TenantFixture;
  let other: TestDatabase;
  let dir: string;
  let file: string;
  let beforeExport: Record<string, string>;
  let bPrint: Record<string, string>;
  let patientId: string;

  async function sell(t: TenantFixture, productId: string, key = randomUUID()): Promise<string> {
    const r = await p.ok<{ createSale: { saleNumber: string } }>(
      op('CreateSale'),
      { input: { branchId: t.branches[0]!.id, items: [{ productId, quantity: 1 }], paymentMethod: 'CASH', idempotencyKey: key } },
      { token: t.adminToken },
    );
    return r.createSale.saleNumber;
  }

  async function seed(t: TenantFixture): Promise<{ otc: string }> {
    const branchId = t.branches[0]!.id;
    const product = async (sku: string, controlled: boolean) =>
      (await p.ok<{ createProduct: { id: string } }>(op('CreateProduct'), { input: { sku, name: `Product ${sku}`, genericName: controlled ? 'morphine' : 'paracetamol', requiresPrescription: controlled, controlledSubstance: controlled } }, { token: t.adminToken })).createProduct.id;
    const [otc, morphine] = [await product('PCM-1', false), await product('MOR-1', true)];
    for (const [id, batch] of [[otc, 'P-1'], [morphine, 'M-1']] as const) {
      await p.ok(op('ReceiveStock'), { input: { branchId, productId: id, batchNumber: batch, expiryDate: '2031-01-31', quantity: 50, costPrice: '1.15', sellingPrice: '2.50' } }, { token: t.adminToken });
    }
    const till = await p.ok<{ createTill: { id: string } }>(op('CreateTill'), { branchId, name: 'Till 1' }, { token: t.adminToken });
    await p.ok(op('OpenTill'), { input: { tillId: till.createTill.id, openingFloat: '100.00' } }, { token: t.adminToken });
    const pharmacist = (await createUser(p, t, 'PHARMACIST', [branchId])).token;
    // A dispensing is a sale booked to the pharmacist's own open till session.
    await openTillSession(p, t, pharmacist, branchId);
    const patient = await p.ok<{ createPatient: { id: string } }>(op('CreatePatient'), { input: { firstName: 'Mwila', lastName: 'Banda', medicalHistory: 'asthma since 2019', allergies: ['penicillin'] } }, { token: pharmacist });
    const rx = await p.ok<{ createPrescription: { id: string } }>(
      op('CreatePrescription'),
      { input: { branchId, patientId: patient.createPatient.id, prescriberName: 'Dr Phiri', datePrescribed: TODAY, items: [{ productId: morphine, quantity: 2, dosage: '10 mg every 4 h' }] } },
      { token: pharmacist },
    );
    await p.ok(op('VerifyPrescription'), { id: rx.createPrescription.id }, { token: pharmacist });
    await p.ok(op('DispensePrescription'), { id: rx.createPrescription.id }, { token: pharmacist });
    for (let i = 0; i < 3; i++) await sell(t, otc);
    if (t === a) patientId = patient.createPatient.id;
    return { otc };
  }

  beforeAll(async () => {
    p = await startTestPlatform({ PATIENT_DATA_KEYS: KEYS });
    [a, b] = [await createTenant(p, { branchCount: 1 }), await createTenant(p, { branchCount: 1 })];
    await seed(a);
    await seed(b);
    other = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'umi-backup-'));
    file = join(dir, 'a.umi.gz');
    beforeExport = await fingerprint(p.db.pool, a.id);
    bPrint = await fingerprint(p.db.pool, b.id);
    await exportTenant(p.db.pool, a.subdomain, file);
  }, 240_000);
  afterAll(async () => {
    await p?.close();
    await other?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exports every row and restores it unchanged into another database', async () => {
    expect(Number(beforeExport['tenant.sales']!.split(':')[0])).toBeGreaterThanOrEqual(3);
    expect(Number(beforeExport['tenant.controlled_register']!.split(':')[0])).toBeGreaterThanOrEqual(2);
    const restored = await importTenant(other.pool, file, { appRole: 'umi_app' });
    expect(restored.tenantId).toBe(a.id);
    expect(await fingerprint(other.pool, a.id)).toEqual(beforeExport);
    expect(await ledgerBreaks(other.pool, tenantSchemaName(a.subdomain))).toEqual([]);
    expect(await registerBreaks(other.pool, tenantSchemaName(a.subdomain))).toEqual([]);
    // Only tenant A came over.
    expect((await other.pool.query('SELECT count(*)::int AS n FROM shared.tenants')).rows[0].n).toBe(1);
  });

  it('refuses to restore over an existing tenant unless asked, and changes nothing then', async () => {
    await expect(importTenant(p.db.pool, file, { appRole: 'umi_app' })).rejects.toThrow(/already has tenant/);
    expect(await fingerprint(p.db.pool, a.id)).toEqual(beforeExport);
  });

  it('restores a live tenant to the moment of its backup (replace), leaving other tenants alone', async () => {
    const product = await p.ok<{ products: { edges: { node: { id: string; sku: string } }[] } }>(op('Products'), { search: 'PCM', first: 5, branchId: a.branches[0]!.id }, { token: a.adminToken });
    const otc = product.products.edges.find((e) => e.node.sku === 'PCM-1')!.node.id;
    const late = await sell(a, otc);
    expect(await fingerprint(p.db.pool, a.id)).not.toEqual(beforeExport);

    await importTenant(p.db.pool, file, { appRole: 'umi_app', replace: true });
    expect(await fingerprint(p.db.pool, a.id)).toEqual(beforeExport);
    expect(await fingerprint(p.db.pool, b.id)).toEqual(bPrint);
    const sales = await p.ok<{ sales: { edges: { node: { saleNumber: string } }[] } }>(op('Sales'), { branchId: a.branches[0]!.id, first: 50 }, { token: await login(p, a.adminEmail, a.adminPassword, a.subdomain) });
    expect(sales.sales.edges.map((e) => e.node.saleNumber)).not.toContain(late);
    expect(sales.sales.edges).toHaveLength(Number(beforeExport['tenant.sales']!.split(':')[0]));
  });

  it('restores a copy beside the original under a new subdomain: its own ids, readable patient history, the original untouched', async () => {
    const subdomain = `copy-${randomBytes(3).toString('hex')}`;
    const rekey = rekeyTenantCopy(createFieldCipher(parseKeyring(KEYS)));
    await expect(importTenant(p.db.pool, file, { appRole: 'umi_app', asCopy: true })).rejects.toThrow(/rekey/);
    // The previous test signed in to A since (a login writes its audit row): compare with A as it is now.
    const aNow = await fingerprint(p.db.pool, a.id);
    const copy = await importTenant(p.db.pool, file, { appRole: 'umi_app', asCopy: true, subdomain, rekey });
    expect(copy.tenantId).not.toBe(a.id);
    expect(await fingerprint(p.db.pool, a.id)).toEqual(aNow);
    expect(await fingerprint(p.db.pool, b.id)).toEqual(bPrint);
    const copied = await fingerprint(p.db.pool, copy.tenantId);
    for (const [table, print] of Object.entries(beforeExport)) expect(copied[table]!.split(':')[0]).toBe(print.split(':')[0]);

    const token = await login(p, a.adminEmail, a.adminPassword, subdomain);
    const me = await p.ok<{ me: { id: string } }>(op('Me'), {}, { token });
    const original = await p.ok<{ me: { id: string } }>(op('Me'), {}, { token: await login(p, a.adminEmail, a.adminPassword, a.subdomain) });
    expect(me.me.id).not.toBe(original.me.id);
    const chart = await p.ok<{ patient: { medicalHistory: string; purchases: unknown[] } }>(op('PatientChart'), { id: patientId }, { token });
    expect(chart.patient.medicalHistory).toBe('asthma since 2019');
    const branches = await p.ok<{ branches: { id: string }[] }>(op('Branches'), {}, { token });
    expect(branches.branches.map((x) => x.id)).not.toContain(a.branches[0]!.id);
    const sales = await p.ok<{ sales: { edges: unknown[] } }>(op('Sales'), { branchId: branches.branches[0]!.id, first: 50 }, { token });
    expect(sales.sales.edges).toHaveLength(Number(beforeExport['tenant.sales']!.split(':')[0]));
  });
});
