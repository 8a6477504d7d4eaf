// GraphiQL for partners, bundled by scripts/build-web.mjs and served by the gateway on GET /graphql
// (browsers) in development, or wherever GRAPHIQL=true. Nothing is loaded from a CDN.
import 'graphiql/style.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import type { Fetcher, FetcherOpts, FetcherParams } from '@graphiql/toolkit';
import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import { Kind, OperationTypeNode, parse, type DocumentNode } from 'graphql';

/** The portals' operations, one tab per portal file, put in by the build. */
declare const __UMI_TABS__: { title: string; query: string }[];

const httpUrl = new URL('/graphql', window.location.href).toString();
const wsUrl = httpUrl.replace(/^http/, 'ws');

/** Whether the operation to run is a subscription: those go over graphql-ws, the rest over HTTP. */
function isSubscription(params: FetcherParams, ast: DocumentNode | undefined): boolean {
  let doc = ast;
  if (!doc) {
    try {
      doc = parse(params.query);
    } catch {
      return false;
    }
  }
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op = params.operationName ? ops.find((d) => d.name?.value === params.operationName) : ops[0];
  return op?.operation === OperationTypeNode.SUBSCRIPTION;
}

function headerValue(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === name);
  const v = key ? headers?.[key] : undefined;
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

// One graphql-ws connection per Authorization value: the gateway authenticates the connection
// (connectionParams), so a token edited in the header editor needs a connection of its own.
let socket: { authorization: string | undefined; client: Client } | null = null;
function socketFor(authorization: string | undefined): Client {
  if (socket && socket.authorization === authorization) return socket.client;
  void socket?.client.dispose();
  const client = createClient({ url: wsUrl, connectionParams: authorization ? { authorization } : {}, lazy: true, retryAttempts: 0 });
  socket = { authorization, client };
  return client;
}

const fetcher: Fetcher = async (params: FetcherParams, opts?: FetcherOpts) => {
  const headers = (opts?.headers ?? {}) as Record<string, unknown>;
  if (isSubscription(params, opts?.documentAST)) {
    return socketFor(headerValue(headers, 'authorization')).iterate({
      query: params.query,
      operationName: params.operationName ?? undefined,
      variables: (params.variables ?? undefined) as Record<string, unknown> | undefined,
    }) as AsyncIterable<ExecutionResult>;
  }
  const sent: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string' && v.trim() !== '') sent[k] = v;
  const res = await fetch(httpUrl, { method: 'POST', headers: sent, body: JSON.stringify(params), credentials: 'omit' });
  return (await res.json()) as ExecutionResult;
};

const root = document.getElementById('graphiql');
if (!root) throw new Error('no #graphiql element');
createRoot(root).render(
  createElement(GraphiQL, {
    fetcher,
    defaultTabs: __UMI_TABS__.map((t) => ({ query: t.query, headers: '{\n  "Authorization": ""\n}' })),
    defaultHeaders: '{\n  "Authorization": ""\n}',
    isHeadersEditorEnabled: true,
    defaultEditorToolsVisibility: 'headers',
    shouldPersistHeaders: false,
  }),
);
