import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import type { Logger } from '@umi/kit';

/** Topics of the event bus (the design document's, plus the low-stock and fiscal backlog alerts and payment status changes). */
export const TOPICS = ['sale.completed', 'inventory.updated', 'inventory.low_stock', 'prescription.dispensed', 'user.created', 'fiscal.backlog_alert', 'payment.status_changed', 'inventory.expiry_warning'] as const;
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

/**
 * Receives an event and its position in its (tenant, topic) stream: the Redis stream id
 * (`<ms>-<seq>`), or the in-process bus's id of the same form. Positions increase along a stream,
 * and a subscriber that names the last one it saw can be replayed what followed.
 */
export type EventHandler = (event: EventEnvelope, position: string) => void;

/** One event of a stream, with its position. */
export interface StreamEntry {
  position: string;
  event: EventEnvelope;
}

/** What a stream still holds after a position. */
export interface Replay {
  entries: StreamEntry[];
  /**
   * False when the stream no longer holds every event after the position (older ones were trimmed
   * past the retention window): the caller cannot be told it missed nothing.
   */
  complete: boolean;
}

/** Stream positions, `<ms>-<seq>`. */
export const POSITION = /^\d{1,15}-\d{1,15}$/;

/** Orders two stream positions (negative when `a` comes first). */
export function comparePositions(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

/**
 * Publish/subscribe between the outbox relay and the gateways. Subscriptions are per tenant and
 * topic: a gateway listens only to the tenants its clients belong to, and a tenant's events never
 * travel on another tenant's key. Delivery is at least once; consumers deduplicate by eventId.
 */
export interface EventBus {
  publish(events: EventEnvelope[]): Promise<void>;
  subscribe(tenantId: string, topic: Topic, handler: EventHandler): () => void;
  /**
   * Up to `limit` events of the tenant's topic after `position` (exclusive), oldest first, from
   * what the stream retains (Redis: its MAXLEN; in process: the last `replayWindow` events).
   */
  replay(tenantId: string, topic: Topic, position: string, limit: number): Promise<Replay>;
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
 * It keeps the last `replayWindow` events of each stream, so that subscriptions can resume.
 */
export function createMemoryBus(replayWindow = 1_000): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const epoch = randomUUID();
  const kept = new Map<string, { entries: StreamEntry[]; trimmed: string | null }>();
  let lastMs = 0;
  let seq = 0;
  /** Positions as Redis makes them: the time in ms, and a sequence within the same ms. */
  const nextPosition = () => {
    const now = Date.now();
    if (now > lastMs) {
      lastMs = now;
      seq = 0;
    } else seq += 1;
    return `${lastMs}-${seq}`;
  };
  return {
    async publish(events) {
      for (const e of events) {
        const key = streamKey(e.metadata.tenantId, e.eventType);
        const position = nextPosition();
        let stream = kept.get(key);
        if (!stream) kept.set(key, (stream = { entries: [], trimmed: null }));
        stream.entries.push({ position, event: e });
        if (stream.entries.length > replayWindow) stream.trimmed = stream.entries.shift()!.position;
        emitter.emit(key, e, position);
      }
    },
    async replay(tenantId, topic, position, limit) {
      const stream = kept.get(streamKey(tenantId, topic));
      if (!stream) return { entries: [], complete: true };
      const entries = stream.entries.filter((x) => comparePositions(x.position, position) > 0).slice(0, limit);
      return { entries, complete: stream.trimmed === null || comparePositions(position, stream.trimmed) >= 0 };
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

  /** Whether the stream still holds everything after `position` (Redis 7 reports what MAXLEN trimmed). */
  async function retains(key: string, position: string): Promise<boolean> {
    let info: unknown[];
    try {
      info = (await publisher.call('XINFO', 'STREAM', key)) as unknown[];
    } catch {
      return true; // No such stream: nothing was ever trimmed from it.
    }
    const at = info.indexOf('max-deleted-entry-id');
    const deleted = at >= 0 ? String(info[at + 1]) : null;
    // Before Redis 7 the field is absent and a trim cannot be told from a quiet stream.
    if (!deleted || !POSITION.test(deleted) || deleted === '0-0') return true;
    return comparePositions(position, deleted) >= 0;
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
                h(event, id);
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
    async replay(tenantId, topic, position, limit) {
      const key = streamKey(tenantId, topic);
      // XRANGE's exclusive start `(`: what follows the position.
      const rows = (await publisher.xrange(key, `(${position}`, '+', 'COUNT', limit)) as [string, string[]][];
      const entries: StreamEntry[] = [];
      for (const [id, fields] of rows) {
        try {
          entries.push({ position: id, event: JSON.parse(fields[1] ?? '') as EventEnvelope });
        } catch {
          // Not an envelope: nothing a subscriber could be shown.
        }
      }
      return { entries, complete: await retains(key, position) };
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
