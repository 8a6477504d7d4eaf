import type { IncomingHttpHeaders } from 'node:http';

/** One request a simulator received (control calls excepted), with what it answered. */
export interface RecordedRequest {
  seq: number;
  /** ISO 8601, UTC. */
  at: string;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names, as Node hands them over. */
  headers: Record<string, string>;
  /** Parsed JSON, the raw text when it was not JSON, or undefined when there was no body. */
  body: unknown;
  /** Faults that shaped the answer, e.g. `delay:200`, `fail:503`, `respond:200`. */
  faults: string[];
  /** Filled in when the answer is sent; `dropped` when a fault cut the connection instead. */
  response?: { status: number; body: unknown } | { dropped: true };
}

/** One callback a simulator sent to the platform, and how the platform answered it. */
export interface RecordedCallback {
  seq: number;
  at: string;
  /** The payment (reference or transaction id) the callback is about. */
  paymentId: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  /** The platform's HTTP status, or undefined when it could not be reached (see `error`). */
  status?: number;
  error?: string;
}

export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The in-memory log a test reads; arrays are live, cleared in place by `reset()`. */
export class Recorder {
  readonly requests: RecordedRequest[] = [];
  readonly callbacks: RecordedCallback[] = [];
  private seq = 0;
  private generation = 0;

  /** Changes on every `clear()`: work started before a reset must not land in the log after it. */
  get epoch(): number {
    return this.generation;
  }

  request(entry: Omit<RecordedRequest, 'seq' | 'at' | 'faults'>): RecordedRequest {
    const recorded: RecordedRequest = { seq: ++this.seq, at: new Date().toISOString(), faults: [], ...entry };
    this.requests.push(recorded);
    return recorded;
  }

  /** Logs a callback, unless the log was cleared since it was sent (`epoch` then differs). */
  callback(entry: Omit<RecordedCallback, 'seq' | 'at'>, epoch = this.generation): void {
    if (epoch !== this.generation) return;
    this.callbacks.push({ seq: ++this.seq, at: new Date().toISOString(), ...entry });
  }

  clear(): void {
    this.generation += 1;
    this.requests.length = 0;
    this.callbacks.length = 0;
  }
}
