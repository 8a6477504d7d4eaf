import { createFieldCipher, createLogger, loadEnv, parseKeyring } from '@umi/kit';
import { createOwnerPool } from '@umi/db';
import { reencryptPatients } from '../subgraphs/pharmacy/src/jobs/reencrypt';

/** `npx tsx scripts/rotate-patient-keys.ts`: re-encrypts patients' medical history with the newest key of PATIENT_DATA_KEYS. */
async function main() {
  const env = loadEnv();
  const logger = createLogger('rotate-patient-keys', env.LOG_LEVEL);
  if (!env.DATABASE_URL || !env.PATIENT_DATA_KEYS) throw new Error('DATABASE_URL and PATIENT_DATA_KEYS are required');
  // A maintenance job across every tenant, like migrations: the owner's pool, not a request's scope.
  const pool = createOwnerPool(env.DATABASE_URL);
  try {
    const { rewritten } = await reencryptPatients(pool, createFieldCipher(parseKeyring(env.PATIENT_DATA_KEYS)), logger);
    logger.info({ rewritten }, 'done');
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
