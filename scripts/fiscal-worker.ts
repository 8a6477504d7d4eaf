// First: tracing (when configured) must patch http, pg and ioredis before they load.
import '@umi/kit/tracing';
import { loadEnv, runMain } from '@umi/kit';
import { serveRelayHealth, startFiscalWorkerProcess } from '@umi/platform';

// The fiscal worker as its own process (docker compose runs one), with its probes and metrics
// (fiscal_backlog, fiscal_backlog_oldest_seconds, its pool) on FISCAL_PORT.
runMain(async () => {
  const env = loadEnv();
  const fiscal = await startFiscalWorkerProcess(env);
  let stopping = false;
  const health = await serveRelayHealth({ port: env.FISCAL_PORT, host: env.SUBGRAPH_HOST, metrics: fiscal.metrics, ready: () => !stopping });
  return {
    async close() {
      stopping = true;
      await fiscal.close();
      await health.close();
    },
  };
});
