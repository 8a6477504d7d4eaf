import { randomBytes } from 'node:crypto';

/**
 * Bearer tokens with a lifetime, as the providers' token endpoints issue them. `expireAll()` lets
 * a test check that a client takes a new token when the provider stops honouring the old one.
 */
export class TokenStore<T> {
  private readonly tokens = new Map<string, { subject: T; expiresAt: number }>();

  /** A JWT-shaped token (MTN's are JWTs) or an opaque one (Airtel's). */
  issue(subject: T, ttlSeconds: number, shape: 'jwt' | 'opaque'): string {
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const token =
      shape === 'jwt'
        ? `${b64({ typ: 'JWT', alg: 'R256' })}.${b64({ jti: randomBytes(8).toString('hex'), iat: now, exp: now + ttlSeconds, sim: true })}.${randomBytes(32).toString('base64url')}`
        : randomBytes(24).toString('base64url');
    this.tokens.set(token, { subject, expiresAt: Date.now() + ttlSeconds * 1000 });
    return token;
  }

  /** The subject of a live token, from an `Authorization: Bearer ...` header. */
  verify(authorization: string | undefined): T | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const entry = m ? this.tokens.get(m[1]!) : undefined;
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.tokens.delete(m![1]!);
      return undefined;
    }
    return entry.subject;
  }

  expireAll(): void {
    this.tokens.clear();
  }
}

/** Decodes `Authorization: Basic base64(user:password)`. */
export function basicCredentials(authorization: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
