import { ZodError } from 'zod';
import { Faults, type DelayFault, type FailFault, type RespondFault } from './faults';
import type { SimRequest, SimResponse } from './http';
import { Recorder } from './recorder';
import { Timers } from './timers';

/** The switches every simulator has, programmatically and through `POST /__control`. */
export interface BaseControl {
  /** Forgets every fault, rule, record and piece of state (accounts and devices configured at start stay). */
  reset(): void;
  /** Slow answers: each matching request waits `ms` before it is handled. */
  delay(fault: DelayFault): void;
  /** 5xx (default 503), or a cut connection with `drop: true`, for matching requests. */
  fail(fault?: FailFault): void;
  /** A canned answer (any status and JSON body) instead of the real handling. */
  respond(fault: RespondFault): void;
}

/** What each simulator is built from: its request log, its faults and its timers. */
export class SimulatorKit {
  readonly recorder = new Recorder();
  readonly faults = new Faults();
  readonly timers = new Timers();

  baseControl(resetState: () => void): BaseControl {
    return {
      reset: () => {
        this.timers.cancelAll();
        this.faults.clear();
        this.recorder.clear();
        resetState();
      },
      delay: (f) => this.faults.delay(f),
      fail: (f) => this.faults.fail(f),
      respond: (f) => this.faults.respond(f),
    };
  }
}

type Action = (input: Record<string, unknown>) => unknown;

/**
 * The HTTP face of a control object: `POST /__control` with `{ "action": "<method>", ...input }`
 * calls that method; `GET /__control/<view>` returns a view (requests, callbacks, state);
 * `GET /__control` lists both.
 */
export function controlEndpoint(actions: object, views: Record<string, () => unknown>): (req: SimRequest) => SimResponse {
  const table = actions as Record<string, Action>;
  const names = Object.keys(actions).filter((k) => typeof table[k] === 'function');
  return (req) => {
    const view = req.path.split('/')[2];
    if (req.method === 'GET') {
      if (view === undefined || view === '') return { status: 200, body: { actions: names, views: Object.keys(views) } };
      const read = views[view];
      return read ? { status: 200, body: read() } : { status: 404, body: { ok: false, error: `no view ${view}; views: ${Object.keys(views).join(', ')}` } };
    }
    if (req.method !== 'POST' || view !== undefined) return { status: 405, body: { ok: false, error: 'POST /__control with {"action": ...}' } };
    const input = req.json;
    if (req.jsonError || typeof input !== 'object' || input === null || Array.isArray(input)) {
      return { status: 400, body: { ok: false, error: 'the body must be a JSON object with an "action"' } };
    }
    const { action, ...rest } = input as Record<string, unknown>;
    const run = typeof action === 'string' && names.includes(action) ? table[action] : undefined;
    if (!run) return { status: 400, body: { ok: false, error: `unknown action ${String(action)}; actions: ${names.join(', ')}` } };
    try {
      const result = run(rest);
      return { status: 200, body: result === undefined ? { ok: true } : { ok: true, result } };
    } catch (err) {
      if (err instanceof ZodError) {
        return { status: 400, body: { ok: false, error: 'invalid input', issues: err.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`) } };
      }
      return { status: 400, body: { ok: false, error: (err as Error).message } };
    }
  };
}
