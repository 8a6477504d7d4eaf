import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';

/** The dashboard's name for the gateway: a first-party client that sends manifest hashes. */
export const CLIENT_NAME = 'umi-dashboard';

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

interface Response<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** The document's sha256 from the typed client (GraphQL Code Generator's persisted documents). */
function hashOf(doc: TypedDocumentNode<unknown, unknown>): string | undefined {
  const meta = (doc as { __meta__?: { hash?: string } }).__meta__;
  return meta?.hash?.replace(/^sha256:/, '');
}

/**
 * Runs a typed operation over HTTP: the manifest hash alone first (extensions.persistedQuery); the
 * full document only if the gateway does not know the hash.
 */
export async function request<T, V extends Record<string, unknown>>(doc: TypedDocumentNode<T, V>, variables: V, token?: string): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'apollographql-client-name': CLIENT_NAME };
  if (token) headers.authorization = `Bearer ${token}`;
  const hash = hashOf(doc as TypedDocumentNode<unknown, unknown>);
  const send = async (withDocument: boolean): Promise<Response<T>> => {
    const body: Record<string, unknown> = { variables };
    if (hash) body.extensions = { persistedQuery: { version: 1, sha256Hash: hash } };
    if (withDocument || !hash) body.query = print(doc);
    const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(body) });
    return (await res.json()) as Response<T>;
  };
  let result = await send(false);
  if (result.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND') result = await send(true);
  const first = result.errors?.[0];
  if (first || !result.data) throw new GraphQLRequestError(first?.message ?? 'no data', first?.extensions?.code);
  return result.data;
}

/** One graphql-ws connection for the signed-in user (the gateway authenticates it once). */
export function liveClient(token: string, onStatus: (s: string) => void): Client {
  return createClient({
    url: new URL('/graphql', window.location.href).toString().replace(/^http/, 'ws'),
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: Infinity,
    shouldRetry: () => true,
    on: { connected: () => onStatus('live'), closed: () => onStatus('reconnecting…') },
  });
}

/** Subscribes a typed subscription; returns its unsubscribe. */
export function live<T, V extends Record<string, unknown>>(client: Client, doc: TypedDocumentNode<T, V>, variables: V, next: (data: T) => void, fail: (e: unknown) => void): () => void {
  return client.subscribe<T>(
    { query: print(doc), variables },
    {
      next: (r) => {
        if (r.data) next(r.data as T);
        else if (r.errors?.length) fail(r.errors);
      },
      error: fail,
      complete: () => undefined,
    },
  );
}
