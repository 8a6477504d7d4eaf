import http from 'node:http';
import type net from 'node:net';
import type { Fetcher, FetcherHeaders, FetcherRequestInit, FetcherResponse } from '@apollo/utils.fetcher';

/**
 * The gateway's fetcher for its subgraphs: one `node:http` request over a keep-alive agent, the
 * answer read into one buffer.
 *
 * Why not Node's `fetch` (undici): for each subgraph call it built a WHATWG Request, Response,
 * AbortSignal and body streams, and under a sale load that machinery was the largest share of
 * both gateways' CPU in the profiles (issue 14). The subgraphs answer small JSON bodies over
 * loopback, which need none of it. What mattered about undici is kept: Node's agent also honours
 * the server's `Keep-Alive: timeout=` hint and retires an idle connection before the server closes
 * it, so a request does not race the server's close on a stale socket. Transport failures surface
 * as Node's errors with their `code` (ECONNREFUSED, ECONNRESET, ...), which `./unavailable` maps.
 */
export function createSubgraphFetcher(agent: http.Agent = createSubgraphAgent()): Fetcher & { agent: http.Agent } {
  const fetcher = (url: string, init: FetcherRequestInit = {}): Promise<FetcherResponse> =>
    new Promise((resolve, reject) => {
      const body = init.body === undefined ? undefined : typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
      const headers: Record<string, string | number> = { ...init.headers };
      if (body) headers['content-length'] = body.length;
      const req = http.request(url, { method: init.method ?? 'GET', headers, agent });
      const signal = init.signal as AbortSignal | undefined;
      const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }));
      if (signal) {
        if (signal.aborted) {
          onAbort();
        } else {
          signal.addEventListener('abort', onAbort, { once: true });
          req.once('close', () => signal.removeEventListener('abort', onAbort));
        }
      }
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          // A response cut before its end is a transport failure, not a short body.
          if (!res.complete) {
            reject(Object.assign(new Error('subgraph response ended early'), { code: 'ECONNRESET' }));
            return;
          }
          resolve(new BufferedResponse(url, res.statusCode ?? 0, res.statusMessage ?? '', new BufferedHeaders(res.headers), Buffer.concat(chunks)));
        });
      });
      req.end(body);
    });
  return Object.assign(fetcher, { agent });
}

/**
 * A keep-alive agent that never hands out a connection the subgraph has already closed. Node's
 * agent drops an idle socket only on its 'close', which comes after the peer's FIN ('end') and,
 * on a busy loop, up to hundreds of ms later; a request given that socket meanwhile dies with
 * "socket hang up" after it was written, which a mutation must report as OUTCOME_UNKNOWN although
 * the stopped subgraph never saw it. So an idle socket is destroyed on 'end', and the agent's
 * first-in-first-out scheduling (the only one that skips destroyed sockets) passes over it.
 */
export function createSubgraphAgent(): http.Agent {
  const agent = new http.Agent({ keepAlive: true, scheduling: 'fifo' });
  const internal = agent as unknown as { createConnection(options: unknown, cb?: unknown): net.Socket };
  const create = internal.createConnection.bind(agent);
  internal.createConnection = (options, cb) => {
    const socket = create(options, cb);
    socket.once('end', () => {
      // In use, the request's own handling of the close applies (a response read to EOF, or an error).
      if (!(socket as unknown as { _httpMessage?: unknown })._httpMessage) socket.destroy();
    });
    return socket;
  };
  return agent;
}

/** Response headers by lower-case name (HTTP names are case-insensitive). */
export class BufferedHeaders implements FetcherHeaders {
  private readonly map = new Map<string, string>();

  constructor(raw: http.IncomingHttpHeaders = {}) {
    for (const [name, value] of Object.entries(raw)) {
      if (value !== undefined) this.map.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
    }
  }
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const prev = this.map.get(key);
    this.map.set(key, prev === undefined ? value : `${prev}, ${value}`);
  }
  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }
  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  set(name: string, value: string): void {
    this.map.set(name.toLowerCase(), value);
  }
  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  values(): IterableIterator<string> {
    return this.map.values();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
}

/** A whole answer in memory; its body may be read once, as with fetch (clone() for another read). */
export class BufferedResponse implements FetcherResponse {
  readonly redirected = false;
  private used = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    readonly headers: BufferedHeaders,
    private readonly body: Buffer,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  get bodyUsed(): boolean {
    return this.used;
  }
  private consume(): Buffer {
    if (this.used) throw new TypeError('Body has already been read');
    this.used = true;
    return this.body;
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.consume();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  async text(): Promise<string> {
    return this.consume().toString('utf8');
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
  clone(): FetcherResponse {
    if (this.used) throw new TypeError('Body has already been read');
    const headers = new BufferedHeaders();
    for (const [k, v] of this.headers) headers.set(k, v);
    return new BufferedResponse(this.url, this.status, this.statusText, headers, this.body);
  }
}
