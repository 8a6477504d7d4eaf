import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import type { Logger } from '@umi/kit';

/** Topics of the event bus (the design document's, plus the low-stock alert). */
export const TOPICS = ['sale.completed', 'inventory.updated', 'inventory.low_stock', 'prescription.dispensed', 'user.created', 'payment.status_changed'] as const;
export type Topic = (typeof TOPICS)[number];

/** The design document's message envelope. */
export interface EventEnvelope {
  eventId: string;
  eventType: Topic;
  serviceName: string;
  /** ISO-8601, UTC: when the change committed its outbox row. */
  timestamp: string;
  data: Record<string, unknown>;
  metadata: { tenantId: string; branchId: string | null; userId: string | null; correlationId: string | null };
}

export type EventHandler = (event: EventEnvelope) => void;

/**
 * Publish/subscribe between the outbox relay and the gateways. Subscriptions are per tenant and
 * topic: a gateway listens only to the tenants its clients belong to, and a tenant's events never
 * travel on another tenant's key. Delivery is at least once; consumers deduplicate by eventId.
 */
export interface EventBus {
  publish(events: EventEnvelope[]): Promise<void>;
  subscribe(tenantId: string, topic: Topic, handler: EventHandler): () => void;
  /**
   * Changes when the bus lost what it held (a Redis restart without persistence): the relay then
   * replays recently published events so that no subscriber misses one.
   */
  epoch(): Promise<string>;
  close(): Promise<void>;
}

const streamKey = (tenantId: string, topic: Topic) => `umi:ev:${tenantId}:${topic}`;

/**
 * In-process bus for one machine without Redis (`npm start`): the relay and the gateway share it.
 */
export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const epoch = randomUUID();
  return {
    async publish(events) {
      for (const e of events) emitter.emit(streamKey(e.metadata.tenantId, e.eventType), e);
    },
    subscribe(tenantId, topic, handler) {
      const key = streamKey(tenantId, topic);
      emitter.on(key, handler);
      return () => emitter.off(key, handler);
    },
    async epoch() {
      return epoch;
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

let processBus: EventBus | null = null;

/** The one in-memory bus of this process: the relay and the gateway of `npm start` meet on it. */
export function sharedMemoryBus(): EventBus {
  processBus ??= createMemoryBus();
  return processBus;
}

export interface RedisBusOptions {
  /** Approximate length kept per stream (XADD MAXLEN ~). */
  maxLen?: number;
  /** How long one blocking read waits; new subscriptions join the read within this time. */
  blockMs?: number;
  logger: Logger;
  onError?: (err: unknown) => void;
}

/**
 * Redis Streams, one per tenant and topic. A reader keeps the id of the last entry it saw per
 * stream, so after a connection drop it resumes where it stopped instead of losing what was
 * published meanwhile (pub/sub would drop it). Every gateway reads every stream it needs on its
 * own: each instance delivers every event to its own clients.
 *
 * `publisher` serves publish and epoch; reads block, so they use `reader`, a connection of their own.
 */
export function createRedisBus(publisher: Redis, reader: Redis, opts: RedisBusOptions): EventBus {
  const maxLen = opts.maxLen ?? 10_000;
  const blockMs = opts.blockMs ?? 1_000;
  const handlers = new Map<string, Set<EventHandler>>();
  /** Last id read per stream; '$'-like start positions are resolved before first use. */
  const cursors = new Map<string, string>();
  let running = true;
  let loop: Promise<void> | null = null;

  /** Resolves where a new stream's reading starts: its newest entry now (the subscription sees what follows). */
  function join(key: string): void {
    publisher
      .xrevrange(key, '+', '-', 'COUNT', 1)
      .then((last) => {
        if (handlers.has(key) && !cursors.has(key)) cursors.set(key, (last as [string, string[]][])[0]?.[0] ?? '0-0');
      })
      .catch((err: unknown) => {
        opts.onError?.(err);
        // Redis away at subscription time: start from the beginning of what it keeps.
        if (handlers.has(key) && !cursors.has(key)) cursors.set(key, '0-0');
      });
  }

  async function readLoop(): Promise<void> {
    while (running && handlers.size > 0) {
      try {
        const keys = [...handlers.keys()].filter((k) => cursors.has(k));
        if (keys.length === 0) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const res = (await reader.xread('COUNT', 500, 'BLOCK', blockMs, 'STREAMS', ...keys, ...keys.map((k) => cursors.get(k)!))) as
          | [string, [string, string[]][]][]
          | null;
        for (const [key, entries] of res ?? []) {
          for (const [id, fields] of entries) {
            cursors.set(key, id);
            const raw = fields[1];
            if (!raw) continue;
            let event: EventEnvelope;
            try {
              event = JSON.parse(raw) as EventEnvelope;
            } catch {
              continue;
            }
            for (const h of handlers.get(key) ?? []) {
              try {
                h(event);
              } catch (err) {
                opts.onError?.(err);
              }
            }
          }
        }
      } catch (err) {
        if (!running) break;
        opts.onError?.(err);
        // Redis away: wait and resume from the same cursors once it is back.
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    loop = null;
  }

  return {
    async publish(events) {
      if (events.length === 0) return;
      const pipeline = publisher.multi();
      for (const e of events) pipeline.xadd(streamKey(e.metadata.tenantId, e.eventType), 'MAXLEN', '~', String(maxLen), '*', 'e', JSON.stringify(e));
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('redis transaction aborted');
    },
    subscribe(tenantId, topic, handler) {
      const key = streamKey(tenantId, topic);
      let set = handlers.get(key);
      if (!set) handlers.set(key, (set = new Set()));
      set.add(handler);
      if (!cursors.has(key)) join(key);
      loop ??= readLoop();
      return () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(key);
          cursors.delete(key);
        }
      };
    },
    async epoch() {
      // SET NX keeps the first value; after a restart without persistence the key is gone and a new one is set.
      await publisher.set('umi:ev:epoch', randomUUID(), 'NX');
      return (await publisher.get('umi:ev:epoch')) ?? 'unknown';
    },
    async close() {
      running = false;
      handlers.clear();
      await loop?.catch(() => {});
    },
  };
}
