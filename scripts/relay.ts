import { loadEnv, runMain } from '@umi/kit';
import { startRelayProcess } from '@umi/platform';

// The outbox relay as its own process (docker compose runs one).
runMain(() => startRelayProcess(loadEnv()));
