import { loadEnv, runMain } from '@umi/kit';
import { serveRelayHealth, startJobRunnerProcess } from '@umi/platform';

// The scheduled-job runner as its own process (docker compose and Kubernetes run it), with its
// probes and metrics (jobs_pending, jobs_failed, jobs_failed_total, ...) on JOBS_PORT. Several may
// run: each tenant's run of a job exists once (pg-boss singleton keys) and one runner takes it.
runMain(async () => {
  const env = loadEnv();
  const runner = await startJobRunnerProcess(env);
  let stopping = false;
  const health = await serveRelayHealth({ port: env.JOBS_PORT, host: env.SUBGRAPH_HOST, metrics: runner.metrics, ready: () => !stopping && runner.ready() });
  return {
    async close() {
      stopping = true;
      await runner.close();
      await health.close();
    },
  };
});
