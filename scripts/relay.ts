// First: tracing (when configured) must patch http, pg and ioredis before they load.
import '@umi/kit/tracing';
import { loadEnv, runMain } from '@umi/kit';
import { serveRelayHealth, startRelayProcess } from '@umi/platform';

// The outbox relay as its own process (docker compose and Kubernetes run it), with its probes and
// metrics on RELAY_PORT.
runMain(async () => {
  const env = loadEnv();
  const relay = await startRelayProcess(env);
  let stopping = false;
  const health = await serveRelayHealth({ port: env.RELAY_PORT, host: env.SUBGRAPH_HOST, metrics: relay.metrics, ready: () => !stopping });
  return {
    async close() {
      stopping = true;
      await relay.close();
      await health.close();
    },
  };
});
