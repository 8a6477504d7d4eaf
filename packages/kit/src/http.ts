import http from 'node:http';

/** An HTTP server of the platform's (gateway or subgraph), with the keep-alive the gateway's fetch needs. */
export interface HttpServer {
  server: http.Server;
  /** Listens on `port` (0: any free one) and resolves with the port taken. */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting and resolves once every connection is closed. */
  close(): Promise<void>;
}

/**
 * Wraps `handler` in a server whose idle connections outlive the clients' (the gateway's fetch
 * drops them after a few seconds, load balancers after 60 s): a server closing a connection the
 * client is about to reuse surfaces as ECONNRESET / socket hang up on the client's next request.
 */
export function createHttpServer(handler: http.RequestListener): HttpServer {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return {
    server,
    async listen(port, host) {
      await new Promise<void>((resolve) => server.listen(port, host, resolve));
      const addr = server.address();
      return typeof addr === 'object' && addr ? addr.port : port;
    },
    async close() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
