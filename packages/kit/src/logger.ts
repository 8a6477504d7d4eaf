import pino, { type Logger } from 'pino';

export type { Logger };

/** One root logger per process; requests log through children carrying requestId and tenantId. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
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
