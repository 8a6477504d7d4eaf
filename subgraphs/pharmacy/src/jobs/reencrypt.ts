import type { Pool } from 'pg';
import { assertTenantSchema, quoteIdent } from '@umi/db';
import type { FieldCipher, Logger } from '@umi/kit';

/** The associated data a patient's medical history is bound to (same as the service writes). */
export const historyContext = (patientId: string) => `patients:${patientId}:medical_history`;

/**
 * Key rotation: re-encrypts every patient's medical history written under an older key version
 * with the current one, tenant by tenant, in batches of rows locked with SKIP LOCKED (so it can run
 * beside the API and beside another run). Add the new key to PATIENT_DATA_KEYS, deploy, run this;
 * once it reports 0 left, the old key can be removed.
 */
export async function reencryptPatients(pool: Pool, cipher: FieldCipher, logger: Logger, batchSize = 200): Promise<{ rewritten: number }> {
  const client = await pool.connect();
  let rewritten = 0;
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('app.platform', 'on', true)`);
    const { rows: tenants } = await client.query<{ id: string; schema_name: string }>(`SELECT id::text, schema_name FROM shared.tenants WHERE deleted_at IS NULL`);
    await client.query('COMMIT');
    for (const t of tenants) {
      const table = `${quoteIdent(assertTenantSchema(t.schema_name))}.patients`;
      for (;;) {
        await client.query('BEGIN');
        const { rows } = await client.query<{ id: string; ciphertext: string; version: number }>(
          `SELECT id::text, medical_history_ciphertext AS ciphertext, medical_history_key_version AS version FROM ${table}
           WHERE medical_history_key_version < $1 LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [cipher.currentVersion, batchSize],
        );
        for (const r of rows) {
          const plain = cipher.decrypt(t.id, historyContext(r.id), r.ciphertext, r.version);
          const next = cipher.encrypt(t.id, historyContext(r.id), plain);
          await client.query(`UPDATE ${table} SET medical_history_ciphertext = $2, medical_history_key_version = $3, updated_at = now() WHERE id = $1::uuid`, [
            r.id,
            next.ciphertext,
            next.keyVersion,
          ]);
        }
        await client.query('COMMIT');
        rewritten += rows.length;
        if (rows.length < batchSize) break;
      }
      logger.info({ tenantId: t.id, rewritten }, 'patient data re-encrypted');
    }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  return { rewritten };
}
