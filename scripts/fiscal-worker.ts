import { loadEnv, runMain } from '@umi/kit';
import { startFiscalWorkerProcess } from '@umi/platform';

// The fiscal worker as its own process (docker compose runs one).
runMain(() => startFiscalWorkerProcess(loadEnv()));
