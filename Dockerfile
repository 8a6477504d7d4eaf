# syntax=docker/dockerfile:1
#
# One image for every process of Umi Health: the gateway, the four subgraphs and the migration job.
# TypeScript runs with tsx (no build step), loaded with `node --import tsx` so that the service itself receives SIGTERM. The default command starts the gateway; each
# docker-compose service overrides it:
#
#   docker build -t umi-health .
#   docker run --rm --env-file .env umi-health                                    # gateway (port 4000)
#   docker run --rm --env-file .env umi-health node --import tsx subgraphs/tenant/src/index.ts
#   docker run --rm --env-file .env umi-health node --import tsx subgraphs/pharmacy/src/index.ts
#   docker run --rm --env-file .env umi-health node --import tsx subgraphs/inventory/src/index.ts
#   docker run --rm --env-file .env umi-health node --import tsx subgraphs/pos/src/index.ts
#   docker run --rm --env-file .env umi-health node --import tsx scripts/migrate.ts         # apply SQL migrations
#
# Settings are environment variables, all declared in packages/kit/src/env.ts.
FROM node:20-bookworm-slim AS web
# The browser pages (GraphiQL, the dashboard) and the trusted-operations manifest need the dev
# tools (GraphQL Code Generator, esbuild): built in this stage, only their output is copied on.
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
COPY clients/package.json clients/
COPY dashboard/package.json dashboard/
COPY gateway/package.json gateway/
COPY packages/kit/package.json packages/kit/
COPY packages/db/package.json packages/db/
COPY packages/events/package.json packages/events/
COPY packages/ledger/package.json packages/ledger/
COPY packages/subgraph/package.json packages/subgraph/
COPY packages/supply/package.json packages/supply/
COPY platform/package.json platform/
COPY testkit/package.json testkit/
COPY simulators/package.json simulators/
COPY subgraphs/tenant/package.json subgraphs/tenant/
COPY subgraphs/pharmacy/package.json subgraphs/pharmacy/
COPY subgraphs/inventory/package.json subgraphs/inventory/
COPY subgraphs/pos/package.json subgraphs/pos/
RUN npm ci --ignore-scripts
COPY . .
RUN node scripts/generate.mjs

FROM node:20-bookworm-slim

WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# Dependencies first (cached until a manifest changes). npm ci needs every workspace's manifest.
COPY package.json package-lock.json ./
COPY clients/package.json clients/
COPY dashboard/package.json dashboard/
COPY gateway/package.json gateway/
COPY packages/kit/package.json packages/kit/
COPY packages/db/package.json packages/db/
COPY packages/events/package.json packages/events/
COPY packages/ledger/package.json packages/ledger/
COPY packages/subgraph/package.json packages/subgraph/
COPY packages/supply/package.json packages/supply/
COPY platform/package.json platform/
COPY testkit/package.json testkit/
COPY simulators/package.json simulators/
COPY subgraphs/tenant/package.json subgraphs/tenant/
COPY subgraphs/pharmacy/package.json subgraphs/pharmacy/
COPY subgraphs/inventory/package.json subgraphs/inventory/
COPY subgraphs/pos/package.json subgraphs/pos/
# --ignore-scripts: nothing relies on dependencies' install scripts (the project's own npm does not
# run them either), and they would try to download Prisma engines the project does not use.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY . .
# Prisma clients and resolver types (TypeScript sources under */generated); needs no network.
RUN node scripts/generate.mjs --prisma-only
COPY --from=web /app/dist/web dist/web
COPY --from=web /app/clients/src/generated/typed clients/src/generated/typed
# The gateway serves supergraph.graphql: compose it (offline, from supergraph.yaml and the subgraph
# schemas) so that it always matches the subgraphs in this image.
RUN npx tsx scripts/compose.ts

# Application files stay root-owned and read-only for the runtime user.
USER node
ENV APOLLO_TELEMETRY_DISABLED=1 NODE_ENV=production
EXPOSE 4000
CMD ["node", "--import", "tsx", "gateway/src/index.ts"]
