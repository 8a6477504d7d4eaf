import { Pool } from 'pg';
import { inTransaction, applyMigrations } from '@umi/db';
(async () => {
  const pool = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/umi_scratch_part' });
  const c = await pool.connect();
  try {
  await inTransaction(c, async () => { await c.query("SELECT set_config('app.platform','on',true)"); await applyMigrations(c, 'tenant', 'tenant_scr', 'umi_app', (n) => n < (process.env.UPTO ?? 'z')); });
  } catch (e) { console.error(e); }
  c.release(); await pool.end();
})();
