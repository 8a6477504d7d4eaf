import type { ClientBase } from 'pg';
import { bindSql, pgExecutor, sql, tables } from '@umi/db';
import type { FieldCipher } from '@umi/kit';
import { settingsContext } from '../services/mobile-money/settings';

/**
 * A tenant restored as a copy (`tenant:import --as-copy`) has a new id, and each ciphertext is bound
 * to its tenant: re-encrypts the copy's mobile-money credentials for it, inside the restore's transaction.
 */
export function rekeyMobileMoneyCopy(cipher: FieldCipher) {
  return async (client: Pick<ClientBase, 'query'>, schema: string, fromTenantId: string, toTenantId: string): Promise<void> => {
    const db = bindSql(pgExecutor(client), schema);
    const rows = await db.query<{ provider: string; ciphertext: string; version: number }>(
      sql`SELECT provider, credentials_ciphertext AS ciphertext, credentials_key_version AS version FROM ${tables.mobile_money_settings}`,
    );
    for (const r of rows) {
      const ctx = settingsContext(r.provider);
      const next = cipher.encrypt(toTenantId, ctx, cipher.decrypt(fromTenantId, ctx, r.ciphertext, r.version));
      await db.execute(
        sql`UPDATE ${tables.mobile_money_settings} SET credentials_ciphertext = ${next.ciphertext}, credentials_key_version = ${next.keyVersion} WHERE provider = ${r.provider}`,
      );
    }
  };
}
