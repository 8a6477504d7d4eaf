import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** The gateway's WebSocket URL for its HTTP one (same port and path). */
export const wsUrl = (httpUrl: string) => httpUrl.replace(/^http/, 'ws');

export interface LiveSubscription<T> {
  /** Payloads received so far, in order. */
  events: T[];
  /** The event id (`extensions.eventId`, the resume point) of each payload, in the same order. */
  eventIds: string[];
  /** Errors the server sent for this subscription. */
  errors: unknown[];
  /** Resolves with the n-th payload (1-based) once it has arrived, or rejects after `timeoutMs`. */
  nth(n: number, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** Subscribes with a real graphql-ws client, as a dashboard does. */
export function subscribe<T = Record<string, unknown>>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): LiveSubscription<T> {
  const client: Client = createClient({
    url: wsUrl(url),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
  });
  const events: T[] = [];
  const eventIds: string[] = [];
  const errors: unknown[] = [];
  const waiters: (() => void)[] = [];
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) {
          events.push(value.data as T);
          eventIds.push(String((value.extensions as { eventId?: unknown } | undefined)?.eventId ?? ''));
        }
        for (const w of waiters.splice(0)) w();
      },
      error: (err) => {
        errors.push(err);
        for (const w of waiters.splice(0)) w();
      },
      complete: () => {},
    },
  );
  return {
    events,
    eventIds,
    errors,
    nth(n, timeoutMs = 10_000) {
      return new Promise<T>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`timed out waiting for event ${n} (have ${events.length}; errors ${JSON.stringify(errors)})`)), timeoutMs);
        const check = () => {
          if (events.length >= n) {
            clearTimeout(deadline);
            resolve(events[n - 1]!);
          } else if (errors.length > 0) {
            clearTimeout(deadline);
            reject(new Error(`subscription failed: ${JSON.stringify(errors)}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    async close() {
      dispose();
      await client.dispose();
    },
  };
}

/**
 * A bare graphql-transport-ws connection that sends `connection_init` with `params` (or nothing
 * when `params` is null) and resolves with how the server closed it.
 */
export function closeOf(url: string, params: Record<string, unknown> | null, timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl(url), 'graphql-transport-ws');
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('the server did not close the connection'));
    }, timeoutMs);
    socket.on('open', () => {
      if (params) socket.send(JSON.stringify({ type: 'connection_init', payload: params }));
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
    socket.on('error', () => {});
  });
}
