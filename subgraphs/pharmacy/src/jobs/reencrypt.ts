import type { ClientBase, Pool } from 'pg';
import { bindSql, inTransaction, pgExecutor, sharedTables, sql, tables } from '@umi/db';
import type { FieldCipher, Logger } from '@umi/kit';

/** The associated data a patient's medical history is bound to (same as the service writes). */
export const historyContext = (patientId: string) => `patients:${patientId}:medical_history`;

/**
 * Key rotation: re-encrypts every patient's medical history written under an older key version
 * with the current one, tenant by tenant, in batches of rows locked with SKIP LOCKED (so it can run
 * beside the API and beside another run). Runs outside any request, across every tenant, on the
 * owner's pool. Add the new key to PATIENT_DATA_KEYS, deploy, run this; once it reports 0 left,
 * the old key can be removed.
 */
export async function reencryptPatients(pool: Pool, cipher: FieldCipher, logger: Logger, batchSize = 200): Promise<{ rewritten: number }> {
  const client = await pool.connect();
  let rewritten = 0;
  try {
    const tenants = await inTransaction(client, async () => {
      // The shared tenants table is under row-level security: list it as the platform.
      await client.query(`SELECT set_config('app.platform', 'on', true)`);
      return bindSql(pgExecutor(client), null).query<{ id: string; schema_name: string }>(
        sql`SELECT id::text, schema_name FROM ${sharedTables.tenants} WHERE deleted_at IS NULL`,
      );
    });
    for (const t of tenants) {
      const db = bindSql(pgExecutor(client), t.schema_name);
      for (;;) {
        const done = await inTransaction(client, async () => {
          const rows = await db.query<{ id: string; ciphertext: string; version: number }>(
            sql`SELECT id::text, medical_history_ciphertext AS ciphertext, medical_history_key_version AS version FROM ${tables.patients}
                WHERE medical_history_key_version < ${cipher.currentVersion} LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`,
          );
          for (const r of rows) {
            const plain = cipher.decrypt(t.id, historyContext(r.id), r.ciphertext, r.version);
            const next = cipher.encrypt(t.id, historyContext(r.id), plain);
            await db.execute(
              sql`UPDATE ${tables.patients} SET medical_history_ciphertext = ${next.ciphertext}, medical_history_key_version = ${next.keyVersion}, updated_at = now()
                  WHERE id = ${r.id}::uuid`,
            );
          }
          return rows.length;
        });
        rewritten += done;
        if (done < batchSize) break;
      }
      logger.info({ tenantId: t.id, rewritten }, 'patient data re-encrypted');
    }
  } finally {
    client.release();
  }
  return { rewritten };
}

/**
 * A tenant restored as a copy (`tenant:import --as-copy`) has a new id, and each ciphertext is bound
 * to its tenant: re-encrypts the copy's patient history for it, inside the restore's transaction.
 */
export function rekeyTenantCopy(cipher: FieldCipher) {
  return async (client: Pick<ClientBase, 'query'>, schema: string, fromTenantId: string, toTenantId: string): Promise<void> => {
    const db = bindSql(pgExecutor(client), schema);
    const rows = await db.query<{ id: string; ciphertext: string; version: number }>(
      sql`SELECT id::text, medical_history_ciphertext AS ciphertext, medical_history_key_version AS version FROM ${tables.patients}
          WHERE medical_history_ciphertext IS NOT NULL`,
    );
    for (const r of rows) {
      const next = cipher.encrypt(toTenantId, historyContext(r.id), cipher.decrypt(fromTenantId, historyContext(r.id), r.ciphertext, r.version));
      await db.execute(
        sql`UPDATE ${tables.patients} SET medical_history_ciphertext = ${next.ciphertext}, medical_history_key_version = ${next.keyVersion} WHERE id = ${r.id}::uuid`,
      );
    }
  };
}
