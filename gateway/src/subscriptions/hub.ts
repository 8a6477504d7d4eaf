import { createHash } from 'node:crypto';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { LRUCache } from 'lru-cache';
import { canViewBranch, createLimiter, type Logger, type Principal } from '@umi/kit';
import { comparePositions, type EventBus, type EventEnvelope, type Topic } from '@umi/events/bus';
import type { Counter } from 'prom-client';
import { BoundedQueue } from './queue';
import { ROUTES, type FetchPlan, type RouteName } from './plan';

/** One live subscription of one client. */
export interface Subscriber {
  tenantId: string;
  route: RouteName;
  /** null: every branch the principal may see. */
  branchId: string | null;
  principal: Principal;
  plan: FetchPlan;
  /** Resume: the position of the last event the client saw; what followed is replayed first. */
  after?: string | null;
}

export type Fetch = (principal: Principal, plan: FetchPlan, key: string) => Promise<ExecutionResult>;

export interface HubMetrics {
  delivered: Counter;
  dropped: Counter;
  fetches: Counter;
  unresolved: Counter;
}

interface Live extends Subscriber {
  queue: BoundedQueue<ExecutionResult>;
  /** Events from well before the subscription (a bus replay) are not news to this subscriber. */
  since: number;
  /** Subscribers with the same access see the same fields: they share one fetch per event. */
  accessKey: string;
  /** While its replay runs, live events wait here (then only those after the replay are sent). */
  replaying: boolean;
  buffer: { event: EventEnvelope; position: string }[];
  /** Position of the last event delivered: nothing at or before it is sent again. */
  lastPosition: string | null;
}

interface Stream {
  subs: Set<Live>;
  unsubscribe: () => void;
  /** Deliveries of this stream, in the order its events arrived. */
  chain: Promise<void>;
}

/**
 * An event's timestamp is its transaction's start; one that started this long before a
 * subscription but committed after it still counts as news.
 */
const REPLAY_SKEW_MS = 30_000;

/**
 * Payload fetches a gateway runs at once, across all streams. After a Redis outage the backlog
 * arrives in one burst; started all at once, its fetches queued in front of every sale the
 * subgraphs served (p50 35 ms to 2.2 s for 6 s). Bounded, the backlog drains at a steady pace.
 */
export const DEFAULT_FETCH_CONCURRENCY = 8;

/** A resume replays at most this many events, read this many at a time. */
const REPLAY_MAX = 1_000;
const REPLAY_PAGE = 100;

/** Pauses before retrying a failed payload fetch (ms). */
const FETCH_RETRIES = [100, 500, 2_000];

/** Who may see what: role, branches and permission matrix (tenant included). */
function accessKeyOf(p: Principal): string {
  return createHash('sha256')
    .update(JSON.stringify([p.tenantId, p.role, [...p.branchIds].sort(), p.permissions]))
    .digest('base64url');
}

/**
 * A gateway's fan-out of bus events to its own clients. It listens to a (tenant, topic) stream
 * only while a client of that tenant subscribes, drops events it has already seen (the bus is at
 * least once), keeps each subscriber to its branch filter, fetches each event's entity once per
 * selection shape and access, and hands results to bounded per-client queues without waiting on
 * any client. Fetches of consecutive events run concurrently; each stream delivers in order.
 */
export class EventHub {
  private readonly streams = new Map<string, Stream>();
  private readonly seen = new LRUCache<string, true>({ max: 100_000 });
  private readonly limiter: ReturnType<typeof createLimiter>;

  constructor(
    private readonly bus: EventBus,
    private readonly fetch: Fetch,
    private readonly metrics: HubMetrics,
    private readonly logger: Logger,
    private readonly queueSize: number,
    fetchConcurrency: number = DEFAULT_FETCH_CONCURRENCY,
  ) {
    this.limiter = createLimiter(fetchConcurrency);
  }

  /** Payload fetches running, and waiting for a turn. */
  get fetchLoad(): { active: number; waiting: number } {
    return { active: this.limiter.active, waiting: this.limiter.waiting };
  }

  get subscriptionCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.subs.size;
    return n;
  }

  subscribe(sub: Subscriber, onEnd: () => void = () => {}): BoundedQueue<ExecutionResult> {
    const topic: Topic = ROUTES[sub.route].topic;
    const streamKey = `${sub.tenantId}|${topic}`;
    let stream = this.streams.get(streamKey);
    if (!stream) {
      const created: Stream = { subs: new Set(), unsubscribe: () => {}, chain: Promise.resolve() };
      created.unsubscribe = this.bus.subscribe(sub.tenantId, topic, (e, position) => this.onEvent(sub.tenantId, created, e, position));
      this.streams.set(streamKey, created);
      stream = created;
    }
    const owner = stream;
    const live: Live = {
      ...sub,
      accessKey: accessKeyOf(sub.principal),
      // A resumed subscription goes by stream position alone: a late-published old event is news.
      since: sub.after ? Number.NEGATIVE_INFINITY : Date.now() - REPLAY_SKEW_MS,
      replaying: Boolean(sub.after),
      buffer: [],
      lastPosition: sub.after ?? null,
      queue: new BoundedQueue<ExecutionResult>(
        this.queueSize,
        () => this.metrics.dropped.inc(),
        () => {
          onEnd();
          owner.subs.delete(live);
          if (owner.subs.size === 0 && this.streams.get(streamKey) === owner) {
            owner.unsubscribe();
            this.streams.delete(streamKey);
          }
        },
      ),
    };
    owner.subs.add(live);
    if (live.replaying) void this.resume(live);
    return live.queue;
  }

  /** Whether `sub` is shown `event` at all: its branch filter, or every branch its principal may see. */
  private visible(sub: Live, event: EventEnvelope): boolean {
    const branchId = event.metadata.branchId;
    if (event.metadata.tenantId !== sub.tenantId) return false;
    return sub.branchId !== null ? sub.branchId === branchId : branchId !== null && canViewBranch(sub.principal, branchId);
  }

  /**
   * Replays what the subscriber missed after its `after` position from the bus's retained stream,
   * with the same access rules as live delivery, then the live events that arrived meanwhile
   * (those after the last replayed), then hands it over to live delivery: in order, none twice.
   */
  private async resume(live: Live): Promise<void> {
    const topic = ROUTES[live.route].topic;
    const replayed = new Set<string>();
    try {
      for (let total = 0; total < REPLAY_MAX && live.lastPosition; ) {
        const { entries, complete } = await this.bus.replay(live.tenantId, topic, live.lastPosition, REPLAY_PAGE);
        if (!complete && total === 0) {
          live.queue.push({
            errors: [
              new GraphQLError('Some events after this position are no longer retained: reload the data, then resume from the next event received', {
                extensions: { code: 'BAD_USER_INPUT', reason: 'RESUME_POINT_EXPIRED' },
              }),
            ],
          });
        }
        for (const { event, position } of entries) {
          if (replayed.has(event.eventId)) continue;
          replayed.add(event.eventId);
          await this.deliverOne(live, event, position);
        }
        total += entries.length;
        if (entries.length < REPLAY_PAGE) break;
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'subscription replay failed; continuing live');
    }
    while (live.buffer.length > 0) {
      const { event, position } = live.buffer.shift()!;
      if (replayed.has(event.eventId)) continue;
      await this.deliverOne(live, event, position);
    }
    // No await since the buffer was found empty: from here on, live delivery reaches this subscriber.
    live.replaying = false;
  }

  /** One event to one subscriber (replay): its own fetch, as that subscriber. */
  private async deliverOne(live: Live, event: EventEnvelope, position: string): Promise<void> {
    if (live.lastPosition && comparePositions(position, live.lastPosition) <= 0) return;
    if (!this.visible(live, event)) return;
    live.lastPosition = position;
    const result = await this.fetchWithRetry(live, ROUTES[live.route].key(event), event.eventId);
    const entity = result?.data?.[live.plan.responseKey];
    if (!result || entity === null || entity === undefined) {
      this.metrics.unresolved.inc();
      return;
    }
    live.queue.push({ data: { [live.plan.responseKey]: entity }, ...(result.errors?.length ? { errors: result.errors } : {}), extensions: { eventId: position } });
    this.metrics.delivered.inc();
  }

  private onEvent(tenantId: string, stream: Stream, event: EventEnvelope, position: string): void {
    // The stream is the tenant's; an event claiming another tenant is never delivered here.
    if (event.metadata.tenantId !== tenantId) return;
    if (this.seen.has(event.eventId)) return;
    this.seen.set(event.eventId, true);
    const at = Date.parse(event.timestamp);
    const targets: Live[] = [];
    for (const s of stream.subs) {
      if (!this.visible(s, event)) continue;
      if (s.replaying) s.buffer.push({ event, position });
      else if (!(at < s.since) && !(s.lastPosition && comparePositions(position, s.lastPosition) <= 0)) targets.push(s);
    }
    if (targets.length === 0) return;

    const groups = new Map<string, Live[]>();
    for (const s of targets) {
      const k = `${s.plan.shapeKey}|${s.accessKey}`;
      const g = groups.get(k);
      if (g) g.push(s);
      else groups.set(k, [s]);
    }
    const fetched = [...groups.values()].map(async (group) => {
      const first = group[0]!;
      const key = ROUTES[first.route].key(event);
      return { group, result: await this.fetchWithRetry(first, key, event.eventId) };
    });
    stream.chain = stream.chain.then(async () => {
      for (const { group, result } of await Promise.all(fetched)) {
        const entity = result?.data?.[group[0]!.plan.responseKey];
        if (!result || entity === null || entity === undefined) {
          // Gone or not visible to them (e.g. voided meanwhile): nothing to show.
          this.metrics.unresolved.inc(group.length);
          continue;
        }
        // The position is the client's resume point (`after` of saleCompleted / lowStockAlert).
        const payload: ExecutionResult = { data: { [group[0]!.plan.responseKey]: entity }, ...(result.errors?.length ? { errors: result.errors } : {}), extensions: { eventId: position } };
        for (const s of group) {
          if (s.lastPosition && comparePositions(position, s.lastPosition) <= 0) continue;
          s.lastPosition = position;
          s.queue.push(payload);
          this.metrics.delivered.inc();
        }
      }
    });
  }

  /**
   * Fetches an event's payload, retrying a failure (a subgraph busy or restarting) a few times
   * with backoff: an event is only given up when its entity is gone or not visible to them.
   */
  private async fetchWithRetry(sub: Live, key: string, eventId: string): Promise<ExecutionResult | null> {
    for (let attempt = 0; ; attempt++) {
      this.metrics.fetches.inc();
      try {
        const result = await this.limiter.run(() => this.fetch(sub.principal, sub.plan, key));
        const entity = result.data?.[sub.plan.responseKey];
        const failed = (entity === null || entity === undefined) && (result.errors?.length ?? 0) > 0;
        if (!failed || attempt >= FETCH_RETRIES.length) return result;
      } catch (err) {
        if (attempt >= FETCH_RETRIES.length) {
          this.logger.warn({ err: (err as Error).message, eventId }, 'subscription payload fetch failed; event not delivered');
          return null;
        }
      }
      await new Promise((r) => setTimeout(r, FETCH_RETRIES[attempt]));
    }
  }

  /** Ends every subscription (shutdown). */
  close(): void {
    for (const stream of this.streams.values()) for (const s of [...stream.subs]) s.queue.end();
  }
}
