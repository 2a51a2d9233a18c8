# The gateway's image: built from the lockfile, run as a non-root user with the production
# dependencies and the bundle only. docs/operations.md ("A container image") explains each choice;
# test/deploy/dockerfile.test.ts builds the same tree without Docker and starts its CMD.

# 1. Build: every dependency, then tsc and the esbuild bundle (dist/gateway.mjs).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
RUN npm run build

# 2. Production dependencies only, installed from the lockfile as it is (no re-resolution, so no
#    peer-dependency warnings, nothing a build tool needs).
FROM node:20-bookworm-slim AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

# 3. What runs: node, the bundle and the modules it loads at run time (GraphiQL's assets, ioredis,
#    the OpenTelemetry SDK). Files stay owned by root: the gateway cannot rewrite its own code.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
ENV PORT=4000
WORKDIR /app
COPY package.json ./
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
# The slim image has no curl: node asks /health (liveness; it never calls the upstream).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 and gets SIGTERM (the drain: docs/operations.md); no shell or npm in between.
CMD ["node", "dist/gateway.mjs"]
