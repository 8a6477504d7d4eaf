import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import type { Env, Logger } from '@umi/kit';

/** The typed client's persisted documents, written by `npm run generate` (GraphQL Code Generator's client preset). */
export const DEFAULT_MANIFEST_PATH = join(resolve(__dirname, '..', '..'), 'clients', 'src', 'generated', 'typed', 'persisted-documents.json');

/** sha256 (hex) -> document: the operations first-party portals may send by hash alone. */
export type OperationManifest = ReadonlyMap<string, string>;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Reads the manifest. Its keys may carry the `sha256:` prefix the client preset writes; each is
 * checked against its document, so a hand-edited entry cannot smuggle another operation in.
 */
export function loadManifest(path: string, logger?: Logger): OperationManifest {
  if (!existsSync(path)) {
    logger?.warn({ path }, 'no trusted-operations manifest: run `npm run generate`');
    return new Map();
  }
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const manifest = new Map<string, string>();
  for (const [key, doc] of Object.entries(raw)) {
    const hash = key.replace(/^sha256:/, '').toLowerCase();
    if (typeof doc !== 'string' || sha256Hex(doc) !== hash) throw new Error(`manifest ${path}: entry ${key} is not the sha256 of its document`);
    manifest.set(hash, doc);
  }
  return manifest;
}

export function manifestOnlyClients(env: Pick<Env, 'MANIFEST_ONLY_CLIENTS'>): ReadonlySet<string> {
  return new Set(
    env.MANIFEST_ONLY_CLIENTS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

interface PersistedQueryExtension {
  version?: unknown;
  sha256Hash?: unknown;
}

function refuse(res: Response, status: number, message: string, code: string, reason?: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code, ...(reason ? { reason } : {}) } }] });
}

/** A GraphQL request's fields, from a POST body or GET query parameters (`extensions` JSON-encoded). */
function requestParts(req: Request): { query: unknown; extensions: Record<string, unknown> | undefined; setQuery(q: string): void } {
  if (req.method === 'GET') {
    const q = req.query as Record<string, unknown>;
    let extensions: Record<string, unknown> | undefined;
    if (typeof q.extensions === 'string') {
      try {
        extensions = JSON.parse(q.extensions) as Record<string, unknown>;
      } catch {
        extensions = undefined;
      }
    }
    // Express 5's req.query is a getter: the resolved document travels on the URL's search params.
    return {
      query: q.query,
      extensions,
      setQuery: (text) => {
        const url = new URL(req.url, 'http://gateway');
        url.searchParams.set('query', text);
        req.url = url.pathname + url.search;
      },
    };
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  const ext = body.extensions;
  return {
    query: body.query,
    extensions: ext && typeof ext === 'object' ? (ext as Record<string, unknown>) : undefined,
    setQuery: (text) => {
      body.query = text;
    },
  };
}

/**
 * Trusted operations, before Apollo sees the request:
 * - a hash of the manifest (extensions.persistedQuery.sha256Hash, no document) runs its document;
 *   any other hash goes on to Apollo's Automatic Persisted Queries (PERSISTED_QUERY_NOT_FOUND, then
 *   the client sends the document with the hash and later requests need the hash alone);
 * - a client named in MANIFEST_ONLY_CLIENTS (header apollographql-client-name) runs only documents
 *   of the manifest, sent by hash or in full: anything else is refused (400 PERSISTED_QUERY_NOT_ALLOWED,
 *   reason OPERATION_NOT_IN_MANIFEST), so a stolen portal token cannot run arbitrary documents as
 *   that portal. Other clients (partners) keep sending documents within the limits.
 */
export function persistedOperations(manifest: OperationManifest, manifestOnly: ReadonlySet<string>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' && req.method !== 'GET') return next();
    const parts = requestParts(req);
    const pq = parts.extensions?.persistedQuery as PersistedQueryExtension | undefined;
    const hash = typeof pq?.sha256Hash === 'string' ? pq.sha256Hash.toLowerCase() : null;
    const clientName = req.headers['apollographql-client-name'];
    const restricted = typeof clientName === 'string' && manifestOnly.has(clientName);

    if (typeof parts.query !== 'string' || parts.query === '') {
      if (hash && manifest.has(hash)) parts.setQuery(manifest.get(hash) as string);
      else if (restricted) return refuse(res, 400, `${clientName} may only send operations of the trusted-operations manifest`, 'PERSISTED_QUERY_NOT_ALLOWED', 'OPERATION_NOT_IN_MANIFEST');
      return next();
    }
    if (hash && hash !== sha256Hex(parts.query)) {
      return refuse(res, 400, 'extensions.persistedQuery.sha256Hash is not the sha256 of the query', 'BAD_USER_INPUT', 'PERSISTED_QUERY_HASH_MISMATCH');
    }
    if (restricted && !manifest.has(sha256Hex(parts.query))) {
      return refuse(res, 400, `${clientName} may only send operations of the trusted-operations manifest`, 'PERSISTED_QUERY_NOT_ALLOWED', 'OPERATION_NOT_IN_MANIFEST');
    }
    next();
  };
}
