import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tenantSchemaName } from '@umi/db';
import { addDays, createLogger, dateInZone } from '@umi/kit';
import { archiveAuditLogs } from '../../subgraphs/tenant/src/jobs/audit-archive';
import { anonymiseInactivePatients } from '../../subgraphs/pharmacy/src/jobs/retention';
import { contractOperation, createTenant, createUser, ledgerBreaks, openTillSession, registerBreaks, startTestPlatform, type TenantFixture, type TestPlatform } from '@umi/testkit';

const op = contractOperation;
const TODAY = dateInZone('Africa/Lusaka');
type Gql = { errors?: { message: string; extensions?: Record<string, unknown> }[] };
const failure = (r: Gql) => r.errors?.[0]?.extensions ?? {};
const silent = createLogger('test', 'silent');

const SETTINGS = 'mutation($i: TenantSettingsInput!) { updateTenantSettings(input: $i) { auditLogRetentionDays patientInactivityRetentionYears controlledRegisterRetentionYears } }';
const PATIENT = `query($id: ID!) { patient(id: $id) {
  id patientNumber firstName lastName dateOfBirth gender phone email address allergies medicalHistory status anonymisedAt
  prescriptions { id status sales { id } }
} }`;
const AUDIT = 'query($first: Int!, $after: String, $archived: Boolean) { auditLogs(first: $first, after: $after, archived: $archived) { edges { node { id action entityType entityId timestamp user { id } } } pageInfo { hasNextPage endCursor } } }';

interface PatientView {
  id: string;
  patientNumber: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string | null;
  gender: string | null;
  phone: string | null;
  email: string | null;
  address: string | null;
  allergies: string[];
  medicalHistory: string | null;
  status: string;
  anonymisedAt: string | null;
  prescriptions: { id: string; status: string; sales: { id: string }[] }[];
}
interface AuditPage {
  auditLogs: { edges: { node: { id: string; action: string; entityType: string; entityId: string | null; timestamp: string; user: { id: string } | null } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/**
 * Issue 16, data retention per tenant settings: audit entries past `auditLogRetentionDays` move to
 * the archive (exactly those, once), and patients inactive for `patientInactivityRetentionYears`
 * are anonymised, keeping their sales, prescriptions and register lines, unless a register line
 * younger than the register's retention names them. Another tenant is never touched. Time is
 * simulated by moving rows back (the owner, with triggers off for that transaction only).
 */
describe('retention', () => {
  let p: TestPlatform;
  let t: TenantFixture;
  let other: TenantFixture;
  let schema: string;
  let otherSchema: string;
  let br1: string;
  let pharmacist: { id: string; token: string };
  const product = { amoxicillin: '', morphine: '', pethidine: '', zinc: '' };

  /** Runs `statements` as the owner in one transaction with triggers off (append-only tables included). */
  async function asOwnerWithoutTriggers(statements: [string, unknown[]][]): Promise<void> {
    const c = await p.db.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica');
      for (const [text, values] of statements) await c.query(text, values);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK');
      throw err;
    } finally {
      c.release();
    }
  }

  /** Moves a patient's whole history back by `interval` (its register lines by `registerInterval`). */
  function backdatePatient(s: string, patientId: string, interval: string, registerInterval = interval): Promise<void> {
    return asOwnerWithoutTriggers([
      [`UPDATE "${s}".patients SET created_at = created_at - $2::interval, updated_at = updated_at - $2::interval WHERE id = $1`, [patientId, interval]],
      [
        `UPDATE "${s}".prescriptions SET created_at = created_at - $2::interval, updated_at = updated_at - $2::interval, dispensed_at = dispensed_at - $2::interval,
           verified_at = verified_at - $2::interval WHERE patient_id = $1`,
        [patientId, interval],
      ],
      [
        `UPDATE "${s}".dispensed_items di SET dispensed_at = di.dispensed_at - $2::interval FROM "${s}".prescription_items pi, "${s}".prescriptions rx
           WHERE pi.id = di.prescription_item_id AND rx.id = pi.prescription_id AND rx.patient_id = $1`,
        [patientId, interval],
      ],
      [`UPDATE "${s}".sales SET created_at = created_at - $2::interval, updated_at = updated_at - $2::interval WHERE patient_id = $1`, [patientId, interval]],
      [`UPDATE "${s}".safety_alerts SET created_at = created_at - $2::interval WHERE patient_id = $1`, [patientId, interval]],
      [`UPDATE "${s}".controlled_register SET occurred_at = occurred_at - $2::interval WHERE patient_id = $1`, [patientId, registerInterval]],
    ]);
  }

  async function createPatient(token: string, lastName: string, homeBranchId = br1): Promise<string> {
    const r = await p.ok<{ createPatient: { id: string } }>(
      op('CreatePatient'),
      {
        input: {
          homeBranchId,
          firstName: 'Mutale',
          lastName,
          dateOfBirth: '1970-05-17',
          gender: 'F',
          phone: '+260 977 123456',
          email: `${lastName.toLowerCase()}@example.zm`,
          address: 'Plot 12, Kabulonga, Lusaka',
          allergies: ['sulfonamides'],
          medicalHistory: 'Hypertension since 2010',
        },
      },
      { token },
    );
    return r.createPatient.id;
  }

  /** A verified prescription of `quantity` of `productId` for the patient, dispensed in full. */
  async function dispensed(patientId: string, productId: string, quantity: number): Promise<string> {
    const rx = await p.ok<{ createPrescription: { id: string } }>(
      'mutation($input: CreatePrescriptionInput!) { createPrescription(input: $input) { id } }',
      { input: { branchId: br1, patientId, prescriberName: 'Dr Banda', prescriberLicense: 'HPCZ-1', datePrescribed: TODAY, items: [{ productId, quantity, dosage: 'as directed' }] } },
      { token: pharmacist.token },
    );
    const id = rx.createPrescription.id;
    await p.ok(op('VerifyPrescription'), { id }, { token: pharmacist.token });
    await p.ok('mutation($id: ID!) { dispensePrescription(id: $id) { id status } }', { id }, { token: pharmacist.token });
    return id;
  }

  const readPatient = async (id: string) => (await p.ok<{ patient: PatientView }>(PATIENT, { id }, { token: t.adminToken })).patient;
  const count = async (text: string, values: unknown[]) => (await p.db.pool.query<{ n: number }>(text, values)).rows[0]!.n;

  async function auditIds(token: string, archived: boolean): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    do {
      const page: AuditPage = await p.ok<AuditPage>(AUDIT, { first: 100, after, archived }, { token });
      ids.push(...page.auditLogs.edges.map((e) => e.node.id));
      after = page.auditLogs.pageInfo.hasNextPage ? page.auditLogs.pageInfo.endCursor : null;
    } while (after);
    return ids;
  }

  beforeAll(async () => {
    p = await startTestPlatform();
    [t, other] = await Promise.all([createTenant(p, { branchCount: 1 }), createTenant(p, { branchCount: 1 })]);
    schema = tenantSchemaName(t.subdomain);
    otherSchema = tenantSchemaName(other.subdomain);
    br1 = t.branches[0]!.id;
    pharmacist = await createUser(p, t, 'PHARMACIST', [br1]);
    await openTillSession(p, t, pharmacist.token, br1);
    const create = async (sku: string, genericName: string, extra: Record<string, unknown>) =>
      (await p.ok<{ createProduct: { id: string } }>(op('CreateProduct'), { input: { sku, name: `${genericName} ${sku}`, genericName, taxCategory: 'STANDARD', ...extra } }, { token: t.adminToken }))
        .createProduct.id;
    product.amoxicillin = await create('AMX-500', 'amoxicillin', { requiresPrescription: true, controlledSubstance: false });
    product.morphine = await create('MOR-10', 'morphine', { requiresPrescription: true, controlledSubstance: true });
    product.pethidine = await create('PET-50', 'pethidine', { requiresPrescription: true, controlledSubstance: true });
    product.zinc = await create('ZNC-1', 'zinc', { requiresPrescription: false, controlledSubstance: false });
    for (const [id, lot] of [
      [product.amoxicillin, 'AMX-1'],
      [product.morphine, 'MOR-1'],
      [product.pethidine, 'PET-1'],
      [product.zinc, 'ZNC-1'],
    ] as const) {
      await p.ok(op('ReceiveStock'), { input: { branchId: br1, productId: id, batchNumber: lot, expiryDate: addDays(TODAY, 365), quantity: 100, costPrice: '1.00', sellingPrice: '10.00' } }, { token: t.adminToken });
    }
    // The receipts open the register ten years ago, so dispensings moved back in time still follow them.
    await asOwnerWithoutTriggers([[`UPDATE "${schema}".controlled_register SET occurred_at = occurred_at - interval '10 years'`, []]]);
  }, 240_000);
  afterAll(async () => {
    await p?.close();
  });
  afterEach(async () => {
    expect(await ledgerBreaks(p.db.pool, schema)).toEqual([]);
    expect(await registerBreaks(p.db.pool, schema)).toEqual([]);
  });

  it('has defaults and refuses periods below the floors (BAD_USER_INPUT)', async () => {
    const s = await p.ok<{ tenantSettings: { auditLogRetentionDays: number; patientInactivityRetentionYears: number } }>(
      '{ tenantSettings { auditLogRetentionDays patientInactivityRetentionYears } }',
      {},
      { token: t.adminToken },
    );
    expect(s.tenantSettings).toEqual({ auditLogRetentionDays: 365, patientInactivityRetentionYears: 7 });
    for (const i of [{ auditLogRetentionDays: 89 }, { patientInactivityRetentionYears: 1 }, { auditLogRetentionDays: 0 }, { patientInactivityRetentionYears: -3 }]) {
      const r = await p.gql(SETTINGS, { i }, { token: t.adminToken });
      expect(failure(r)).toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(r.errors?.[0]?.message).toContain(Object.keys(i)[0]!);
    }
    expect(failure(await p.gql(SETTINGS, { i: { auditLogRetentionDays: 120 } }, { token: pharmacist.token }))).toMatchObject({ code: 'FORBIDDEN' });
    const set = await p.ok<{ updateTenantSettings: { auditLogRetentionDays: number; patientInactivityRetentionYears: number } }>(SETTINGS, { i: { auditLogRetentionDays: 90, patientInactivityRetentionYears: 2 } }, { token: t.adminToken });
    expect(set.updateTenantSettings).toMatchObject({ auditLogRetentionDays: 90, patientInactivityRetentionYears: 2 });
    await p.ok(SETTINGS, { i: { auditLogRetentionDays: 365, patientInactivityRetentionYears: 7 } }, { token: t.adminToken });
  });

  it('archives exactly the audit entries past the period, once, and only the tenant’s own', async () => {
    // Entries of both tenants exist (provisioning, users, products, settings); age them all by 200 days.
    await createPatient(t.adminToken, 'Audit');
    const oldIds = (await p.db.pool.query<{ id: string }>(`SELECT id::text FROM "${schema}".audit_logs ORDER BY id`)).rows.map((r) => r.id);
    expect(oldIds.length).toBeGreaterThan(3);
    const otherOld = await count(`SELECT count(*)::int AS n FROM "${otherSchema}".audit_logs`, []);
    expect(otherOld).toBeGreaterThan(0);
    await asOwnerWithoutTriggers([
      [`UPDATE "${schema}".audit_logs SET "timestamp" = "timestamp" - interval '200 days'`, []],
      [`UPDATE "${otherSchema}".audit_logs SET "timestamp" = "timestamp" - interval '200 days'`, []],
    ]);
    const run = () => archiveAuditLogs(p.db.pool, { id: t.id, schemaName: schema }, new Date(), silent, 2);

    // Under the default 365 days nothing is old enough.
    expect(await run()).toEqual({ archived: 0, batches: 0 });

    // 150 days: the 200-day-old entries go; the settings change itself (young) and later ones stay.
    await p.ok(SETTINGS, { i: { auditLogRetentionDays: 150 } }, { token: t.adminToken });
    await createPatient(t.adminToken, 'Young');
    const youngIds = (await p.db.pool.query<{ id: string }>(`SELECT id::text FROM "${schema}".audit_logs WHERE NOT (id::text = ANY($1)) ORDER BY id`, [oldIds])).rows.map((r) => r.id);
    expect(youngIds.length).toBeGreaterThanOrEqual(2);
    const before = (await p.db.pool.query(`SELECT to_jsonb(a) AS row FROM "${schema}".audit_logs a WHERE id::text = ANY($1) ORDER BY id`, [oldIds])).rows.map((r: { row: unknown }) => r.row);
    const oldSummary = (before as { id: string; action: string; entity_type: string; entity_id: string | null }[]).map((r) => ({ id: r.id, action: r.action, entityType: r.entity_type, entityId: r.entity_id }));

    const first = await run();
    expect(first.archived).toBe(oldIds.length);
    expect(first.batches).toBe(Math.ceil(oldIds.length / 2));
    expect(await run()).toEqual({ archived: 0, batches: 0 });

    const live = (await p.db.pool.query<{ id: string }>(`SELECT id::text FROM "${schema}".audit_logs ORDER BY id`)).rows.map((r) => r.id);
    expect(live).toEqual(youngIds);
    const archived = (await p.db.pool.query(`SELECT entry FROM "${schema}".audit_log_archive ORDER BY id`)).rows.map((r: { entry: unknown }) => r.entry);
    expect(archived).toEqual(before);
    // The other tenant's equally old entries are where they were.
    expect(await count(`SELECT count(*)::int AS n FROM "${otherSchema}".audit_logs`, [])).toBe(otherOld);
    expect(await count(`SELECT count(*)::int AS n FROM "${otherSchema}".audit_log_archive`, [])).toBe(0);

    // Through the gateway: the live log lists the young entries, the archive the old ones, newest first.
    const liveApi = await auditIds(t.adminToken, false);
    expect([...liveApi].sort()).toEqual([...youngIds].sort());
    const archivedApi = await auditIds(t.adminToken, true);
    expect([...archivedApi].sort()).toEqual([...oldIds].sort());
    const archivedPage = await p.ok<AuditPage>(AUDIT, { first: 100, archived: true }, { token: t.adminToken });
    const times = archivedPage.auditLogs.edges.map((e) => e.node.timestamp);
    expect([...times].sort().reverse()).toEqual(times);
    const summary = archivedPage.auditLogs.edges.map(({ node }) => ({ id: node.id, action: node.action, entityType: node.entityType, entityId: node.entityId }));
    expect(summary.sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual(oldSummary);
    expect(archivedPage.auditLogs.edges.some((e) => e.node.user?.id !== undefined)).toBe(true);
    expect(failure(await p.gql(AUDIT, { first: 10, archived: true }, { token: pharmacist.token }))).toMatchObject({ code: 'FORBIDDEN' });
    await p.ok(SETTINGS, { i: { auditLogRetentionDays: 365 } }, { token: t.adminToken });
  }, 120_000);

  it('lets the database delete a live audit entry only when it is archived and past the period', async () => {
    await p.ok(SETTINGS, { i: { auditLogRetentionDays: 90 } }, { token: t.adminToken });
    const young = (await p.db.pool.query<{ id: string }>(`SELECT id::text FROM "${schema}".audit_logs ORDER BY "timestamp" DESC LIMIT 1`)).rows[0]!.id;
    await createPatient(t.adminToken, 'Guard');
    const old = (await p.db.pool.query<{ id: string }>(`SELECT id::text FROM "${schema}".audit_logs WHERE entity_type = 'Patient' ORDER BY "timestamp" DESC LIMIT 1`)).rows[0]!.id;
    await asOwnerWithoutTriggers([[`UPDATE "${schema}".audit_logs SET "timestamp" = "timestamp" - interval '100 days' WHERE id = $1`, [old]]]);
    const tryDelete = async (id: string, archiving: boolean) => {
      const c = await p.db.pool.connect();
      try {
        await c.query('BEGIN');
        if (archiving) await c.query(`SELECT set_config('umi.audit_archive', 'on', true)`);
        await c.query(`DELETE FROM "${schema}".audit_logs WHERE id = $1`, [id]);
        await c.query('ROLLBACK');
        return 'deleted';
      } catch (err) {
        await c.query('ROLLBACK');
        return (err as Error).message;
      } finally {
        c.release();
      }
    };
    expect(await tryDelete(old, false)).toMatch(/append-only/);
    expect(await tryDelete(old, true)).toMatch(/not in the archive/);
    expect(await tryDelete(young, true)).toMatch(/within the 90 days/);
    expect(await archiveAuditLogs(p.db.pool, { id: t.id, schemaName: schema }, new Date(), silent)).toEqual({ archived: 1, batches: 1 });
    expect(await count(`SELECT count(*)::int AS n FROM "${schema}".audit_log_archive WHERE id = $1`, [old])).toBe(1);
    // The archive is append-only too.
    await expect(p.db.pool.query(`DELETE FROM "${schema}".audit_log_archive WHERE id = $1`, [old])).rejects.toThrow(/append-only/);
    await p.ok(SETTINGS, { i: { auditLogRetentionDays: 365 } }, { token: t.adminToken });
  }, 60_000);

  it('anonymises inactive patients, keeps their records linked, and spares the active, the register-bound and other tenants', async () => {
    await p.ok(SETTINGS, { i: { patientInactivityRetentionYears: 2, controlledRegisterRetentionYears: 5 } }, { token: t.adminToken });
    const tag = randomUUID().slice(0, 4);
    // A: dispensed three years ago, nothing since.
    const a = await createPatient(pharmacist.token, `Inactive${tag}`);
    const aRx = await dispensed(a, product.amoxicillin, 2);
    await backdatePatient(schema, a, '3 years');
    // B: registered three years ago, bought something at the till today.
    const b = await createPatient(pharmacist.token, `Active${tag}`);
    await backdatePatient(schema, b, '3 years');
    await p.ok(op('CreateSale'), { input: { branchId: br1, paymentMethod: 'CASH', idempotencyKey: randomUUID(), patientId: b, items: [{ productId: product.zinc, quantity: 1 }] } }, { token: pharmacist.token });
    // C: morphine dispensed three years ago: its register line is younger than the register's five years.
    const c = await createPatient(pharmacist.token, `Register${tag}`);
    await dispensed(c, product.morphine, 1);
    await backdatePatient(schema, c, '3 years');
    // D: morphine dispensed six years ago: past both periods.
    const d = await createPatient(pharmacist.token, `Old${tag}`);
    const dRx = await dispensed(d, product.pethidine, 1);
    await backdatePatient(schema, d, '6 years');
    // E: another tenant's patient, as old as A, under the same settings.
    await p.ok(SETTINGS, { i: { patientInactivityRetentionYears: 2 } }, { token: other.adminToken });
    const e = await createPatient(other.adminToken, `Elsewhere${tag}`, other.branches[0]!.id);
    await backdatePatient(otherSchema, e, '3 years');

    const linksOf = async (id: string) => ({
      sales: await count(`SELECT count(*)::int AS n FROM "${schema}".sales WHERE patient_id = $1`, [id]),
      prescriptions: await count(`SELECT count(*)::int AS n FROM "${schema}".prescriptions WHERE patient_id = $1`, [id]),
      register: await count(`SELECT count(*)::int AS n FROM "${schema}".controlled_register WHERE patient_id = $1`, [id]),
      dispensed: await count(
        `SELECT count(*)::int AS n FROM "${schema}".dispensed_items di JOIN "${schema}".prescription_items pi ON pi.id = di.prescription_item_id JOIN "${schema}".prescriptions rx ON rx.id = pi.prescription_id WHERE rx.patient_id = $1`,
        [id],
      ),
    });
    const aLinks = await linksOf(a);
    const dLinks = await linksOf(d);
    expect(aLinks).toEqual({ sales: 1, prescriptions: 1, register: 0, dispensed: 1 });
    expect(dLinks).toEqual({ sales: 1, prescriptions: 1, register: 1, dispensed: 1 });
    const [bBefore, cBefore] = [await readPatient(b), await readPatient(c)];
    const eBefore = (await p.db.pool.query(`SELECT * FROM "${otherSchema}".patients WHERE id = $1`, [e])).rows[0];

    const run = () => anonymiseInactivePatients(p.db.pool, { id: t.id, schemaName: schema }, new Date(), silent);
    expect(await run()).toEqual({ anonymised: 2, keptForRegister: 1 });
    expect(await run()).toEqual({ anonymised: 0, keptForRegister: 1 });

    for (const [id, rx, links] of [
      [a, aRx, aLinks],
      [d, dRx, dLinks],
    ] as const) {
      const view = await readPatient(id);
      expect(view).toMatchObject({
        firstName: 'Anonymised',
        lastName: 'Patient',
        dateOfBirth: null,
        gender: null,
        phone: null,
        email: null,
        address: null,
        allergies: [],
        medicalHistory: null,
        status: 'INACTIVE',
      });
      expect(view.patientNumber).toMatch(/^P-\d{6}$/);
      expect(Date.parse(view.anonymisedAt ?? '')).toBeGreaterThan(Date.now() - 120_000);
      // Still linked: the prescription and the sale that supplied it, the register line.
      expect(view.prescriptions).toEqual([{ id: rx, status: 'DISPENSED', sales: [expect.objectContaining({ id: expect.any(String) })] }]);
      expect(await linksOf(id)).toEqual(links);
      const row = (await p.db.pool.query(`SELECT * FROM "${schema}".patients WHERE id = $1`, [id])).rows[0];
      expect(row).toMatchObject({ medical_history_ciphertext: null, medical_history_key_version: null, emergency_contact: null, insurance_info: null });
      expect(JSON.stringify(row)).not.toMatch(/Mutale|Kabulonga|\+260 977|example\.zm|1970-05-17|sulfonamide|Hypertension/);
    }
    expect(await readPatient(b)).toEqual(bBefore);
    expect(await readPatient(c)).toEqual(cBefore);
    expect(cBefore).toMatchObject({ firstName: 'Mutale', phone: '+260 977 123456', medicalHistory: 'Hypertension since 2010', anonymisedAt: null });
    expect((await p.db.pool.query(`SELECT * FROM "${otherSchema}".patients WHERE id = $1`, [e])).rows[0]).toEqual(eBefore);
    expect(await count(`SELECT count(*)::int AS n FROM "${schema}".compliance_events WHERE event_type = 'PATIENT_ANONYMISED' AND data->>'patientId' = ANY($1)`, [[a, d]])).toBe(2);

    // An anonymised patient is not filled in again, nor named on a sale (the allergy check would be blind).
    expect(failure(await p.gql('mutation($id: ID!, $input: UpdatePatientInput!) { updatePatient(id: $id, input: $input) { id } }', { id: a, input: { phone: '+260 966 000000' } }, { token: pharmacist.token }))).toMatchObject({ code: 'CONFLICT', reason: 'PATIENT_ANONYMISED' });
    expect(
      failure(await p.gql(op('CreateSale'), { input: { branchId: br1, paymentMethod: 'CASH', idempotencyKey: randomUUID(), patientId: a, items: [{ productId: product.zinc, quantity: 1 }] } }, { token: pharmacist.token })),
    ).toMatchObject({ code: 'CONFLICT', reason: 'PATIENT_ANONYMISED' });

    // Once the register line is past five years, C goes too.
    await backdatePatient(schema, c, '0 days', '3 years');
    expect(await run()).toEqual({ anonymised: 1, keptForRegister: 0 });
    expect((await readPatient(c)).anonymisedAt).not.toBeNull();
  }, 180_000);

  it('npm run retention runs both jobs over every tenant once', () => {
    const r = spawnSync(process.execPath, [join(__dirname, '../../node_modules/tsx/dist/cli.mjs'), join(__dirname, '../../scripts/retention.ts')], {
      // The environment a deployed job has (loadEnv asks for the secrets every process shares).
      env: { ...process.env, DATABASE_URL: p.db.url, JWT_SECRET: p.env.JWT_SECRET, INTERNAL_JWT_SECRET: p.env.INTERNAL_JWT_SECRET, LOG_LEVEL: 'info' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect({ status: r.status, stderr: r.stderr.slice(-2000) }).toEqual({ status: 0, stderr: '' });
    const done = r.stdout
      .split('\n')
      .filter((l) => l.includes('"done"'))
      .map((l) => JSON.parse(l) as { tenants: number; failed: number; archived: number; anonymised: number });
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ tenants: 2, failed: 0, anonymised: 1 });
  }, 150_000);
});
