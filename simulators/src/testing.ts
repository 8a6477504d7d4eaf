import http from 'node:http';
import { flattenHeaders } from './core/recorder';

/** A request a callback sink received. */
export interface ReceivedCallback {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A small HTTP server standing in for the platform's callback endpoints in tests. */
export interface CallbackSink {
  /** Base URL; any path under it is accepted. */
  url: string;
  received: ReceivedCallback[];
  /** The status every later callback gets (default 200). */
  answerWith(status: number): void;
  close(): Promise<void>;
}

export async function startCallbackSink(): Promise<CallbackSink> {
  const received: ReceivedCallback[] = [];
  let status = 200;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Kept as text: the assertion will show what came.
      }
      received.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: flattenHeaders(req.headers), body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answerWith: (s) => {
      status = s;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it returns something other than undefined or false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
