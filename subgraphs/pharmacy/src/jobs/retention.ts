import type { Pool } from 'pg';
import { bindSql, inTransaction, pgExecutor, sql, tables, type Sql } from '@umi/db';
import type { Logger } from '@umi/kit';

/** The tenant a retention job works on: its id (for logs) and the schema its data lives in. */
export interface RetentionTenant {
  id: string;
  schemaName: string;
}

/** The tenant settings' floors and defaults (subgraphs/tenant/src/services/settings.ts): applied here whatever is stored. */
const INACTIVITY_MIN_YEARS = 2;
const INACTIVITY_DEFAULT_YEARS = 7;
const REGISTER_MIN_YEARS = 5;

/** What an anonymised patient's names read; the patient number stays, so records still tie up. */
export const ANONYMISED_FIRST_NAME = 'Anonymised';
export const ANONYMISED_LAST_NAME = 'Patient';

const setting = (key: string, fallback: number, floor: number): Sql =>
  sql`greatest(${floor}::int, coalesce((SELECT (value #>> '{}')::integer FROM ${tables.tenant_settings} WHERE key = ${key}), ${fallback}::int))`;

/**
 * The patients (alias `p`) with no activity since the tenant's inactivity period began and no
 * controlled-register line younger than the register's retention period. Activity: the record was
 * created or changed, a prescription was written, changed or dispensed, a sale (till or dispensing)
 * named them, a safety check ran for them. The register rule is the legal one (DOMAIN.md: the
 * register is kept at least 5 years, and its lines name the patient): such a patient waits until
 * the line is that old.
 */
function inactiveAt(now: Date, withRegisterRule = true): Sql {
  const cutoff = sql`(${clock(now)} - make_interval(years => ${setting('patient_inactivity_retention_years', INACTIVITY_DEFAULT_YEARS, INACTIVITY_MIN_YEARS)}))`;
  return sql`p.anonymised_at IS NULL
    AND p.created_at < ${cutoff} AND p.updated_at < ${cutoff}
    AND NOT EXISTS (SELECT 1 FROM ${tables.prescriptions} rx WHERE rx.patient_id = p.id
                    AND (rx.created_at >= ${cutoff} OR rx.updated_at >= ${cutoff} OR rx.dispensed_at >= ${cutoff}))
    AND NOT EXISTS (SELECT 1 FROM ${tables.dispensed_items} di
                    JOIN ${tables.prescription_items} pi ON pi.id = di.prescription_item_id
                    JOIN ${tables.prescriptions} rx ON rx.id = pi.prescription_id
                    WHERE rx.patient_id = p.id AND di.dispensed_at >= ${cutoff})
    AND NOT EXISTS (SELECT 1 FROM ${tables.sales} s WHERE s.patient_id = p.id AND (s.created_at >= ${cutoff} OR s.updated_at >= ${cutoff}))
    AND NOT EXISTS (SELECT 1 FROM ${tables.safety_alerts} sa WHERE sa.patient_id = p.id AND sa.created_at >= ${cutoff})
    ${withRegisterRule ? sql`AND NOT ${youngRegisterLine(now)}` : sql``}`;
}

/** The earlier of the job's clock and the database's: a clock running ahead never erases early. */
const clock = (now: Date): Sql => sql`least(${now.toISOString()}::timestamptz, now())`;

/** A controlled-register line younger than the register's retention period names patient `p`. */
function youngRegisterLine(now: Date): Sql {
  const registerCutoff = sql`(${clock(now)} - make_interval(years => ${setting('controlled_register_retention_years', REGISTER_MIN_YEARS, REGISTER_MIN_YEARS)}))`;
  return sql`EXISTS (SELECT 1 FROM ${tables.controlled_register} cr WHERE cr.patient_id = p.id AND cr.occurred_at >= ${registerCutoff})`;
}

/**
 * Patient retention for one tenant: anonymises, `batchSize` per transaction, every patient inactive
 * for the tenant's `patient_inactivity_retention_years` (never under 2), unless a controlled-register
 * line younger than `controlled_register_retention_years` names them. The row stays (prescriptions,
 * sales, dispensing records and register lines keep pointing at it, with the patient number) but
 * loses, irreversibly, every personal field: names, date of birth, gender, contacts, emergency
 * contact, insurance, allergies and the encrypted medical history (the ciphertext itself is dropped,
 * so no key can bring it back). Each anonymisation is reported as a compliance event in its batch's
 * transaction. A second run finds nothing to do.
 *
 * Candidates are locked first (SKIP LOCKED: a patient in use by a request waits for the next run),
 * then re-checked by the UPDATE in a fresh snapshot: a sale that committed in between keeps its
 * patient, and none can start while the lock is held (its foreign key needs the row). Runs outside
 * any request, on the owner's pool, on the one schema named by `tenant` and no other.
 */
export async function anonymiseInactivePatients(
  pool: Pool,
  tenant: RetentionTenant,
  now: Date,
  logger: Logger,
  batchSize = 200,
): Promise<{ anonymised: number; keptForRegister: number }> {
  const client = await pool.connect();
  const db = bindSql(pgExecutor(client), tenant.schemaName);
  let anonymised = 0;
  // Keyset over patient ids: each batch starts after the last one, so active patients are checked
  // once per run, not once per batch.
  let afterId = '00000000-0000-0000-0000-000000000000';
  try {
    for (;;) {
      const { locked, done } = await inTransaction(client, async () => {
        const ids = (
          await db.query<{ id: string }>(
            sql`SELECT p.id::text FROM ${tables.patients} p WHERE p.id > ${afterId}::uuid AND ${inactiveAt(now)} ORDER BY p.id LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`,
          )
        ).map((r) => r.id);
        if (ids.length === 0) return { locked: 0, done: 0 };
        afterId = ids[ids.length - 1]!;
        const rows = await db.query<{ id: string; branch_id: string; patient_number: string }>(
          sql`UPDATE ${tables.patients} p SET
                first_name = ${ANONYMISED_FIRST_NAME}, last_name = ${ANONYMISED_LAST_NAME},
                date_of_birth = NULL, gender = NULL, phone = NULL, email = NULL, address = NULL,
                emergency_contact = NULL, insurance_info = NULL, allergies = '{}',
                medical_history_ciphertext = NULL, medical_history_key_version = NULL,
                status = CASE WHEN p.status = 'DECEASED' THEN p.status ELSE 'INACTIVE' END,
                anonymised_at = now(), updated_at = now()
              WHERE p.id = ANY(${ids}::uuid[]) AND ${inactiveAt(now)}
              RETURNING p.id::text, p.branch_id::text, p.patient_number`,
        );
        if (rows.length > 0) {
          await db.execute(
            sql`INSERT INTO ${tables.compliance_events} (branch_id, event_type, severity, description, data)
                SELECT r.branch_id, 'PATIENT_ANONYMISED', 'info', 'Patient ' || r.patient_number || ' anonymised after the retention period without activity',
                       jsonb_build_object('patientId', r.id, 'patientNumber', r.patient_number)
                FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(id uuid, branch_id uuid, patient_number text)`,
          );
        }
        return { locked: ids.length, done: rows.length };
      });
      anonymised += done;
      if (locked < batchSize) break;
    }
    // Patients past the inactivity period whom only a young register line keeps, for the report.
    const kept = await db.one<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM ${tables.patients} p WHERE ${inactiveAt(now, false)} AND ${youngRegisterLine(now)}`,
    );
    if (anonymised > 0 || kept.n > 0) logger.info({ tenantId: tenant.id, anonymised, keptForRegister: kept.n }, 'inactive patients anonymised');
    return { anonymised, keptForRegister: kept.n };
  } finally {
    client.release();
  }
}
