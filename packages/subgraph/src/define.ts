import type { Express } from 'express';
import { readFileSync } from 'node:fs';
import { parse, type DocumentNode } from 'graphql';
import type { IRules } from 'graphql-shield';
import { createLogger, loadEnv, startMetricsServer, TenantMovingError, subgraphMetricsPort, subgraphPort, type Env, type Logger, type SubgraphName } from '@umi/kit';
import { bindRequest, type LoaderScope, type SubgraphContext } from './context';
import { createSubgraphRuntime, type SubgraphRuntime } from './runtime';
import { createSubgraphServer, type RequestBase } from './server';

/** What a subgraph says about itself; everything else (server, context, process) is the same for all. */
export interface SubgraphDefinition<D extends SubgraphRuntime, L> {
  name: SubgraphName;
  /** Path of the subgraph's SDL file (the source of truth its resolver types are generated from). */
  schemaFile: string;
  /** The subgraph's resolvers, typed by its generated `Resolvers`. */
  resolvers: object;
  /** The graphql-shield rule tree of its policy (deny by default). */
  policy: IRules;
  /** The subgraph's own dependencies on top of the shared runtime (built once per process). */
  dependencies?: (runtime: SubgraphRuntime) => Omit<D, keyof SubgraphRuntime> & { close?(): Promise<void> };
  /** The request's DataLoaders. */
  loaders: (scope: LoaderScope<D>) => L;
  /** Plain HTTP routes beside /graphql, over the process's dependencies. */
  routes?: (deps: D) => (app: Express) => void;
  /** Runs once before the server listens (e.g. ensuring the platform operator exists). */
  onStart?: (deps: D) => Promise<void>;
}

/** A defined subgraph: build its dependencies, its server, or run it as a process. */
export interface Subgraph<D extends SubgraphRuntime, L> {
  name: SubgraphName;
  typeDefs: DocumentNode;
  /** Builds the dependencies from the environment; tests call it with their own. */
  createDeps(env: Env, logger?: Logger): D;
  /** The server over `deps`, not yet listening. */
  createServer(deps: D): ReturnType<typeof createSubgraphServer<SubgraphContext<D, L>>>;
  /** The request context for a verified request (what the server builds per request). */
  createContext(deps: D): (base: RequestBase) => Promise<SubgraphContext<D, L>>;
  /** Starts the subgraph on its port; resolves once it listens. */
  main(env?: Env): Promise<{ port: number; metricsPort: number; close(): Promise<void> }>;
}

/** Declares a subgraph from its SDL, resolvers, policy and loaders. */
export function defineSubgraph<D extends SubgraphRuntime, L>(def: SubgraphDefinition<D, L>): Subgraph<D, L> {
  const typeDefs = parse(readFileSync(def.schemaFile, 'utf8'));

  function createDeps(env: Env, logger?: Logger): D {
    const runtime = createSubgraphRuntime(env, def.name, logger);
    const own = def.dependencies?.(runtime);
    if (!own) return runtime as D;
    const { close: closeOwn, ...rest } = own;
    return {
      ...runtime,
      ...rest,
      async close() {
        await closeOwn?.();
        await runtime.close();
      },
    } as unknown as D;
  }

  const createContext = (deps: D) => (base: RequestBase) => bindRequest<D, L>({ ...base, deps }, base.principal, def.loaders);

  function createServer(deps: D) {
    return createSubgraphServer<SubgraphContext<D, L>>({
      name: def.name,
      typeDefs,
      resolvers: def.resolvers,
      permissions: def.policy,
      internalTokens: deps.internalTokens,
      logger: deps.logger,
      metrics: deps.metrics,
      maxRepresentations: deps.env.MAX_ENTITY_REPRESENTATIONS,
      maxInFlight: deps.env.MAX_IN_FLIGHT,
      shutdownTimeoutMs: deps.env.SHUTDOWN_TIMEOUT_MS,
      createContext: createContext(deps),
      ready: () => deps.data.ping(),
      routes: def.routes?.(deps),
      mutationStarted: (ctx) => {
        // A tenant being moved takes no writes until it is on its new server (retryable).
        if (ctx.scope?.tenant.moving) throw new TenantMovingError();
        ctx.cache.bypass = true;
      },
      // A tenant's mutation bumps what it touched in that tenant; the operator's bump every tenant.
      // An anonymous one that bound no tenant (a refused login, a logout) changed nothing cached.
      mutationFinished: async (ctx) => {
        if (ctx.scope) await ctx.cache.commit(ctx.scope.tenant.id);
        else if (ctx.principal) await ctx.cache.commit(null);
      },
    });
  }

  return {
    name: def.name,
    typeDefs,
    createDeps,
    createServer,
    createContext,
    async main(env: Env = loadEnv()) {
      const logger = createLogger(def.name, env.LOG_LEVEL);
      const deps = createDeps(env, logger);
      await def.onStart?.(deps);
      const server = await createServer(deps);
      const port = await server.listen(subgraphPort(env, def.name), env.SUBGRAPH_HOST);
      const metricsServer = await startMetricsServer(deps.metrics, subgraphMetricsPort(env, def.name), env.METRICS_HOST);
      logger.info({ port, metricsPort: metricsServer.port }, `${def.name} subgraph listening`);
      return {
        port,
        metricsPort: metricsServer.port,
        async close() {
          await metricsServer.close();
          await server.close();
          await deps.close();
        },
      };
    },
  };
}
