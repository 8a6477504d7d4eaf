import { createHttpServer, type HttpServer, type Metrics } from '@umi/kit';

/**
 * The relay's (and the fiscal worker's) own small HTTP server (Kubernetes probes and Prometheus): it serves no API,
 * so liveness, readiness and metrics share one internal port. `ready()` turns false while the
 * process drains, so no new work is routed to a relay that is leaving.
 */
export async function serveRelayHealth(opts: { port: number; host: string; metrics: Metrics; ready: () => boolean }): Promise<HttpServer & { port: number }> {
  const http = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/readyz') {
      const ok = opts.ready();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ready' : 'draining' }));
    } else if (path === '/metrics') {
      opts.metrics.text().then(
        (text) => res.writeHead(200, { 'Content-Type': opts.metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  const port = await http.listen(opts.port, opts.host);
  return { ...http, port };
}
