import http from 'node:http';
import type net from 'node:net';
import { createSubgraphFetcher } from './subgraph-fetch';

/** A subgraph stand-in: answers every POST with `answer(body)`, and counts the connections it accepted. */
async function server(answer: (body: string, req: http.IncomingMessage, res: http.ServerResponse) => void, keepAliveTimeout = 65_000) {
  let connections = 0;
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(Buffer.concat(chunks).toString('utf8'), req, res));
  });
  srv.keepAliveTimeout = keepAliveTimeout;
  srv.on('connection', () => connections++);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}

describe('the gateway’s subgraph fetcher', () => {
  const fetcher = createSubgraphFetcher();
  afterAll(() => fetcher.agent.destroy());

  it('sends method, headers and body, and answers status, case-insensitive headers and the JSON body', async () => {
    const s = await server((body, req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Echo-Token', String(req.headers['x-umi-internal']));
      res.end(JSON.stringify({ data: { method: req.method, length: req.headers['content-length'], body: JSON.parse(body) as unknown } }));
    });
    try {
      const body = JSON.stringify({ query: '{ me { id name } }', variables: { name: 'Mwila Chanda – ñ' } });
      const r = await fetcher(s.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-umi-internal': 'tok' }, body });
      expect(r.status).toBe(200);
      expect(r.ok).toBe(true);
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(r.headers.get('X-ECHO-TOKEN')).toBe('tok');
      expect(r.bodyUsed).toBe(false);
      const copy = r.clone();
      expect(await r.json()).toEqual({ data: { method: 'POST', length: String(Buffer.byteLength(body)), body: JSON.parse(body) as unknown } });
      expect(r.bodyUsed).toBe(true);
      await expect(r.text()).rejects.toThrow(/already been read/);
      expect(JSON.parse(await copy.text())).toHaveProperty('data.method', 'POST');
    } finally {
      await s.close();
    }
  });

  it('answers a non-2xx status as not ok, with its body (Apollo reports the subgraph’s error from it)', async () => {
    const s = await server((_body, _req, res) => {
      res.statusCode = 503;
      res.setHeader('content-type', 'application/json');
      res.end('{"errors":[{"message":"draining"}]}');
    });
    try {
      const r = await fetcher(s.url, { method: 'POST', body: '{}' });
      expect(r.ok).toBe(false);
      expect(r.status).toBe(503);
      expect(await r.text()).toContain('draining');
    } finally {
      await s.close();
    }
  });

  it('keeps one connection alive across sequential requests', async () => {
    const s = await server((_body, _req, res) => res.end('{}'));
    try {
      for (let i = 0; i < 5; i++) expect((await fetcher(s.url, { method: 'POST', body: '{}' })).status).toBe(200);
      expect(s.connections).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('retires an idle connection before the subgraph’s Keep-Alive timeout instead of racing its close', async () => {
    // The server announces `Keep-Alive: timeout=1`: the agent must not reuse that socket a second later.
    const s = await server((_body, _req, res) => res.end('{}'), 1_000);
    try {
      expect((await fetcher(s.url, { method: 'POST', body: '{}' })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await fetcher(s.url, { method: 'POST', body: '{}' })).status).toBe(200);
      expect(s.connections).toBe(2);
    } finally {
      await s.close();
    }
  });

  it('fails with an AbortError when its signal aborts', async () => {
    const s = await server(() => {}); // never answers
    try {
      const ac = new AbortController();
      const pending = fetcher(s.url, { method: 'POST', body: '{}', signal: ac.signal });
      ac.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await s.close();
    }
  });
});
