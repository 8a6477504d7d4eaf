import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { migrateAll } from '@umi/db';

export const TEST_APP_ROLE = 'umi_app';

function adminUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run tests through jest (globalSetup provides one)');
  return url;
}

/** `url` with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabase {
  /** Owner connection string of the fresh database. */
  url: string;
  /** Owner pool (migrations, provisioning, assertions on raw tables). */
  pool: Pool;
  drop(): Promise<void>;
}

/**
 * A fresh database (`umi_test_<random>`) with the shared schema migrated, so that each test file
 * owns its data and files run in parallel without truncating anything.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `umi_test_${randomBytes(6).toString('hex')}`;
  const admin = new Pool({ connectionString: adminUrl(), max: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl(), name);
  const pool = new Pool({ connectionString: url, max: 4 });
  // Drills terminate every backend of the database, this pool's idle ones included.
  pool.on('error', () => {});
  await migrateAll(pool, TEST_APP_ROLE);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const a = new Pool({ connectionString: adminUrl(), max: 1 });
      // pool.end() resolves before every backend has gone; forcing the drop then would kill a
      // connection this process still holds and surface as an unhandled 57P01. Wait for them.
      for (let i = 0; i < 50; i++) {
        const { rows } = await a.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
