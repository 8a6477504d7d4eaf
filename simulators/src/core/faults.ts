import { z } from 'zod';

/**
 * Which requests a fault applies to, and for how long. Without `count` or `forMs` a fault stays
 * until `reset()`: that is how a test takes a service "down".
 */
export const faultScopeSchema = z.object({
  /** Only requests with this method (GET, POST, ...). */
  method: z.string().toUpperCase().optional(),
  /** Only requests whose path contains this text, e.g. `/trnsSales/saveSales` or `/requesttopay`. */
  path: z.string().min(1).optional(),
  /** The next N matching requests, then the fault is gone. */
  count: z.number().int().positive().optional(),
  /** Matching requests during the next N milliseconds. */
  forMs: z.number().int().positive().optional(),
});

export const delaySchema = faultScopeSchema.extend({ ms: z.number().int().min(0).max(600_000) });
export const failSchema = faultScopeSchema.extend({
  /** HTTP status of the failure (default 503). */
  status: z.number().int().min(500).max(599).default(503),
  /** Cut the connection without any answer instead (a crashed or unreachable service). */
  drop: z.boolean().default(false),
});
export const respondSchema = faultScopeSchema.extend({
  status: z.number().int().min(200).max(599),
  body: z.unknown().optional(),
});

export type FaultScope = z.input<typeof faultScopeSchema>;
export type DelayFault = z.input<typeof delaySchema>;
export type FailFault = z.input<typeof failSchema>;
export type RespondFault = z.input<typeof respondSchema>;

type Rule =
  | { kind: 'delay'; ms: number }
  | { kind: 'fail'; status: number; drop: boolean }
  | { kind: 'respond'; status: number; body: unknown };
type ScopedRule = Rule & { method?: string; path?: string; remaining?: number; until?: number };

/** What the faults decided for one request. */
export interface FaultDecision {
  delayMs: number;
  fail?: { status: number; drop: boolean };
  respond?: { status: number; body: unknown };
  /** Labels for the request log. */
  applied: string[];
}

export class Faults {
  private rules: ScopedRule[] = [];

  delay(input: DelayFault): void {
    const f = delaySchema.parse(input);
    this.add({ kind: 'delay', ms: f.ms }, f);
  }

  fail(input: FailFault = {}): void {
    const f = failSchema.parse(input);
    this.add({ kind: 'fail', status: f.status, drop: f.drop }, f);
  }

  respond(input: RespondFault): void {
    const f = respondSchema.parse(input);
    this.add({ kind: 'respond', status: f.status, body: f.body }, f);
  }

  clear(): void {
    this.rules = [];
  }

  /** Applies (and uses up) the rules matching this request: the longest delay, then one failure or one canned answer. */
  take(method: string, path: string, now = Date.now()): FaultDecision {
    this.rules = this.rules.filter((r) => r.until === undefined || r.until > now);
    const matching = this.rules.filter((r) => (!r.method || r.method === method) && (!r.path || path.includes(r.path)));
    const decision: FaultDecision = { delayMs: 0, applied: [] };
    const used: ScopedRule[] = [];
    const delays = matching.filter((r): r is ScopedRule & { kind: 'delay' } => r.kind === 'delay');
    if (delays.length > 0) {
      decision.delayMs = Math.max(...delays.map((r) => r.ms));
      decision.applied.push(`delay:${decision.delayMs}`);
      used.push(...delays);
    }
    const fail = matching.find((r): r is ScopedRule & { kind: 'fail' } => r.kind === 'fail');
    const respond = matching.find((r): r is ScopedRule & { kind: 'respond' } => r.kind === 'respond');
    if (fail) {
      decision.fail = { status: fail.status, drop: fail.drop };
      decision.applied.push(fail.drop ? 'drop' : `fail:${fail.status}`);
      used.push(fail);
    } else if (respond) {
      decision.respond = { status: respond.status, body: respond.body };
      decision.applied.push(`respond:${respond.status}`);
      used.push(respond);
    }
    for (const rule of used) {
      if (rule.remaining !== undefined) rule.remaining -= 1;
    }
    this.rules = this.rules.filter((r) => r.remaining === undefined || r.remaining > 0);
    return decision;
  }

  private add(rule: Rule, scope: z.output<typeof faultScopeSchema>): void {
    this.rules.push({
      ...rule,
      method: scope.method,
      path: scope.path,
      remaining: scope.count,
      until: scope.forMs === undefined ? undefined : Date.now() + scope.forMs,
    });
  }
}
