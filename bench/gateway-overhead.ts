/**
 * Gateway overhead: latency of the `Me` operation through the gateway against the same operation
 * sent straight to the tenant subgraph (with an internal token signed before each block, outside the
 * timing), at each requested concurrency, from one run.
 *
 *   npx tsx bench/gateway-overhead.ts [--requests 2000] [--concurrency 1,8] [--warmup 200] [--block 100]
 *
 * Uses DATABASE_URL (a PostgreSQL admin URL) when set, otherwise an embedded PostgreSQL.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { operation } from '@umi/clients';
import { INTERNAL_HEADER } from '@umi/kit';
import { createTenant, createUser } from '@umi/testkit';
import { blockOptions, internalTokenSource, measure, out, outHeader, outStatsTable, postGraphql, principalOf, runMain, stringOptions, withPlatform, type Timed } from './lib';

const PATHS = ['gateway', 'direct'] as const;
type PathName = (typeof PATHS)[number];

interface Target {
  name: PathName;
  url: URL;
  headers: () => Promise<Record<string, string>>;
  agent: http.Agent;
}

function options() {
  const values = stringOptions({ requests: '2000', concurrency: '1,8', warmup: '200', block: '100' });
  return blockOptions(values);
}

/** Sends `Me` once and resolves to its latency in ms (to the answer's last byte); throws unless the answer has data.me and no errors. */
function sendMe(t: Target): Timed {
  const body = JSON.stringify({ operationName: 'Me', query: operation('Me'), variables: {} });
  return async () => {
    const headers = await t.headers();
    const started = performance.now();
    const r = await postGraphql<{ me?: unknown }>(t.name, t.url, t.agent, headers, body);
    if (r.status !== 200 || r.parsed.errors?.length || !r.parsed.data?.me) throw new Error(`${t.name}: HTTP ${r.status}, bad answer: ${r.text.slice(0, 500)}`);
    return r.at - started;
  };
}

function signed(ms: number): string {
  return `${ms >= 0 ? '+' : ''}${ms.toFixed(2)}`;
}

async function main(): Promise<void> {
  const opts = options();
  outHeader(`requests per path per concurrency: ${opts.requests}, warm-up: ${opts.warmup} per path, block: ${opts.block}`);
  out('');

  await withPlatform('gateway-overhead', async (p, own) => {
    const tenant = await createTenant(p, { branchCount: 2 });
    const user = await createUser(p, tenant, 'PHARMACIST', tenant.branches.map((b) => b.id));

    const principal = await principalOf(p, user.token);
    // One internal token per block, not per request: the gateway's own per-request signing is part of its overhead.
    const internal = internalTokenSource(p, principal, 'tenant');
    const beforeBlock = async (name: PathName): Promise<void> => {
      if (name === 'direct') await internal.refresh();
    };
    if (!p.env.TENANT_URL) throw new Error('platform did not report TENANT_URL');

    const maxConcurrency = Math.max(...opts.concurrency);
    const targets: Record<PathName, Timed> = {
      gateway: sendMe({ name: 'gateway', url: new URL(p.url), headers: async () => ({ authorization: `Bearer ${user.token}` }), agent: own.agent(maxConcurrency) }),
      direct: sendMe({ name: 'direct', url: new URL(p.env.TENANT_URL), headers: async () => ({ [INTERNAL_HEADER]: await internal.current() }), agent: own.agent(maxConcurrency) }),
    };

    const results = await measure(PATHS, targets, opts, beforeBlock);

    outStatsTable(PATHS, results, { count: 'requests', rate: 'req/s', rateDigits: 0, widths: [12, 8, 9, 8, 8, 8] });
    out('');
    for (const { concurrency, r } of results) {
      const g = r.gateway;
      const d = r.direct;
      out(
        `concurrency ${concurrency}: gateway/direct p50 = ${(g.p50 / d.p50).toFixed(2)}x, p95 = ${(g.p95 / d.p95).toFixed(2)}x; ` +
          `overhead p50 = ${signed(g.p50 - d.p50)} ms, p95 = ${signed(g.p95 - d.p95)} ms`,
      );
    }
  });
}

runMain('gateway-overhead', main);
