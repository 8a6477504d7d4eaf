import http from 'node:http';

/** An HTTP server of the platform's (gateway or subgraph), with the keep-alive the gateway's fetch needs. */
export interface HttpServer {
  server: http.Server;
  /** Listens on `port` (0: any free one) and resolves with the port taken. */
  listen(port: number, host: string): Promise<number>;
  /** True from the start of `drain` on: readiness reports it, and new requests are refused. */
  readonly draining: boolean;
  /** Requests being answered now. */
  readonly inFlight: number;
  /**
   * Stops accepting connections, refuses requests that arrive on kept-alive ones (503, connection
   * closed), lets those in flight finish for up to `timeoutMs`, then cuts what is left. Resolves
   * with how many requests were cut.
   */
  drain(timeoutMs: number): Promise<number>;
  /** Drains with no time for requests in flight. */
  close(): Promise<void>;
}

/** The body of a refusal made before GraphQL runs, in GraphQL's shape so that clients read one format. */
export function unavailableBody(message: string, retryAfterSeconds: number, code = 'SERVICE_UNAVAILABLE'): string {
  return JSON.stringify({ errors: [{ message, extensions: { code, retryable: true, retryAfter: retryAfterSeconds } }] });
}

/**
 * Wraps `handler` in a server whose idle connections outlive the clients' (the gateway's fetch
 * drops them after a few seconds, load balancers after 60 s): a server closing a connection the
 * client is about to reuse surfaces as ECONNRESET / socket hang up on the client's next request.
 */
export function createHttpServer(handler: http.RequestListener): HttpServer {
  let draining = false;
  let inFlight = 0;
  let settled: (() => void) | null = null;
  const server = http.createServer((req, res) => {
    if (draining) {
      // A request on a connection kept alive from before the signal: refused cleanly, and the
      // connection closed so that the client's next attempt goes to another instance.
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', connection: 'close' });
      res.end(unavailableBody('The server is shutting down; retry', 1));
      return;
    }
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      if (draining) {
        // Its connection is idle now: close it rather than wait for the client to reuse it.
        server.closeIdleConnections();
        if (inFlight === 0) settled?.();
      }
    });
    handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  async function drain(timeoutMs: number): Promise<number> {
    if (!draining) {
      draining = true;
      // Stops listening at once: new connections are refused by the kernel from here on.
      server.close();
    }
    server.closeIdleConnections();
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        settled = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const cut = inFlight;
    server.closeAllConnections();
    return cut;
  }

  return {
    server,
    get draining() {
      return draining;
    },
    get inFlight() {
      return inFlight;
    },
    async listen(port, host) {
      await new Promise<void>((resolve) => server.listen(port, host, resolve));
      const addr = server.address();
      return typeof addr === 'object' && addr ? addr.port : port;
    },
    drain,
    async close() {
      await drain(0);
    },
  };
}

/**
 * Headers every answer of the platform carries: no MIME sniffing (a JSON error must never render
 * as HTML), and nothing cached anywhere (answers are one tenant's, and token responses are secrets).
 */
export function securityHeaders(_req: http.IncomingMessage, res: http.ServerResponse, next: () => void): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  next();
}

/** The HTTP statuses of body-parser's refusals the client caused, with the code the body carries. */
const CLIENT_ERRORS: Record<number, string> = { 400: 'BAD_REQUEST', 413: 'PAYLOAD_TOO_LARGE', 415: 'BAD_REQUEST' };

/**
 * The last error handler of an Express app: a GraphQL-shaped JSON error instead of Express's HTML
 * page (which shows the stack and the server's absolute paths outside production). A client's
 * fault (malformed JSON, a body over the limit) keeps its 4xx status and says what it was;
 * anything else is a bare 500, and the cause goes to the log only.
 */
export function jsonErrorHandler(onInternal: (err: unknown) => void) {
  return (err: unknown, _req: http.IncomingMessage, res: http.ServerResponse, next: (err?: unknown) => void): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = typeof (err as { status?: unknown })?.status === 'number' ? (err as { status: number }).status : 500;
    const code = CLIENT_ERRORS[status];
    let body: { message: string; extensions: { code: string } };
    if (code === 'PAYLOAD_TOO_LARGE') body = { message: 'Request body too large', extensions: { code } };
    else if (code) body = { message: 'Malformed request body: expected JSON', extensions: { code } };
    else {
      onInternal(err);
      body = { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
    res.statusCode = code ? status : 500;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.end(JSON.stringify({ errors: [body] }));
  };
}
