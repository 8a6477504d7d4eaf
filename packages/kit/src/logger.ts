import pino, { type Logger } from 'pino';
import { traceLogFields, tracingStarted } from './trace-context';

export type { Logger };

/**
 * One root logger per process; requests log through children carrying requestId (the correlation
 * id) and tenantId. Where the process exports traces, each line also carries the active span's
 * trace_id and span_id, so a log line leads to its trace and back.
 */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
    ...(tracingStarted() ? { mixin: traceLogFields } : {}),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-umi-internal"]',
        '*.password',
        '*.adminPassword',
        '*.refreshToken',
        '*.accessToken',
      ],
      censor: '[redacted]',
    },
  });
}
