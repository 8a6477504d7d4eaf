import type http from 'node:http';
import { createHttpServer } from '@umi/kit';
import type { Faults } from './faults';
import { flattenHeaders, type Recorder, type RecordedRequest } from './recorder';
import type { Timers } from './timers';

const MAX_BODY_BYTES = 1024 * 1024;
export const CONTROL_PATH = '/__control';

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  rawBody: string;
  /** The parsed body; undefined when there was none or it was not JSON (see `jsonError`). */
  json: unknown;
  jsonError: boolean;
}

export interface SimResponse {
  status: number;
  /** Sent as JSON; no body at all when undefined (e.g. MTN's 202). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** An exact path, or a pattern whose groups are handed to `handle`. */
  path: string | RegExp;
  handle(req: SimRequest, params: string[]): SimResponse | Promise<SimResponse>;
}

export interface ServeOptions {
  port: number;
  host: string;
  routes: Route[];
  faults: Faults;
  recorder: Recorder;
  timers: Timers;
  /** Answers everything under `/__control`: never recorded, never subject to faults. */
  control(req: SimRequest): SimResponse | Promise<SimResponse>;
  /** The answer for a path no route knows (default: 404 with a JSON error). */
  notFound?(req: SimRequest): SimResponse;
}

export interface Served {
  /** `http://host:port`, with 127.0.0.1 when listening on every interface. */
  origin: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on `port` (0: any free port) and runs every request through record, faults, route. */
export async function serve(options: ServeOptions): Promise<Served> {
  const server = createHttpServer((req, res) => {
    handle(options, req, res).catch((err: unknown) => {
      if (!res.headersSent) writeJson(res, { status: 500, body: { error: 'simulator error', message: (err as Error).message } });
      else res.destroy();
    });
  });
  const port = await server.listen(options.port, options.host);
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      options.timers.cancelAll();
      // Connections held open by a client's keep-alive pool, or a request stuck in a slow fault,
      // must not keep the simulator (and the test run) alive.
      server.server.closeAllConnections();
      await server.close();
    },
  };
}

async function handle(options: ServeOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const rawBody = await readBody(req);
  if (rawBody === undefined) return writeJson(res, { status: 413, body: { error: 'request body too large' } });
  let json: unknown;
  let jsonError = false;
  if (rawBody.trim() !== '') {
    try {
      json = JSON.parse(rawBody);
    } catch {
      jsonError = true;
    }
  }
  const request: SimRequest = {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers: flattenHeaders(req.headers),
    rawBody,
    json,
    jsonError,
  };
  if (request.path === CONTROL_PATH || request.path.startsWith(`${CONTROL_PATH}/`)) {
    return writeJson(res, await options.control(request));
  }

  const record = options.recorder.request({
    method: request.method,
    path: request.path,
    query: Object.fromEntries(url.searchParams),
    headers: request.headers,
    body: json ?? (rawBody === '' ? undefined : rawBody),
  });
  const decision = options.faults.take(request.method, request.path);
  record.faults.push(...decision.applied);
  await options.timers.sleep(decision.delayMs);
  if (decision.fail?.drop) {
    record.response = { dropped: true };
    req.socket.destroy();
    return;
  }
  const response: SimResponse = decision.fail
    ? { status: decision.fail.status, body: { error: 'simulated failure', status: decision.fail.status } }
    : decision.respond
      ? { status: decision.respond.status, body: decision.respond.body }
      : await route(options, request);
  answer(res, record, response);
}

async function route(options: ServeOptions, request: SimRequest): Promise<SimResponse> {
  let pathMatched = false;
  for (const r of options.routes) {
    const params = matchPath(r.path, request.path);
    if (!params) continue;
    pathMatched = true;
    if (r.method === request.method) return r.handle(request, params);
  }
  if (pathMatched) return { status: 405, body: { error: `method ${request.method} not allowed on ${request.path}` } };
  return options.notFound?.(request) ?? { status: 404, body: { error: `no such endpoint: ${request.path}` } };
}

function matchPath(pattern: string | RegExp, path: string): string[] | undefined {
  if (typeof pattern === 'string') return pattern === path ? [] : undefined;
  const m = pattern.exec(path);
  return m ? m.slice(1).map((p) => decodeURIComponent(p ?? '')) : undefined;
}

function answer(res: http.ServerResponse, record: RecordedRequest, response: SimResponse): void {
  record.response = { status: response.status, body: response.body };
  writeJson(res, response);
}

function writeJson(res: http.ServerResponse, response: SimResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers).end();
    return;
  }
  const text = JSON.stringify(response.body);
  headers['content-type'] ??= 'application/json; charset=utf-8';
  res.writeHead(response.status, headers).end(text);
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
