// Wires Yoga, its plugins, the upstream client and the HTTP server. No environment reading
// here (config.ts does that) and no knowledge of the sandbox (main.ts chooses it).

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga } from 'graphql-yoga';
import type { YogaServerInstance } from 'graphql-yoga';
import type { GatewayConfig } from './config.js';
import { createContext, readBearerToken } from './context.js';
import type { GatewayContext } from './context.js';
import { Admissions, withFastLane } from './fast-lane.js';
import { useSelfHostedGraphiQL } from './graphiql/plugin.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger, yogaLogger } from './logging.js';
import type { Logger } from './logging.js';
import { useCsrfPrevention } from './plugins/csrf.js';
import { useMetrics } from './plugins/metrics.js';
import { useOperationLimits } from './plugins/operation-limits.js';
import { usePersistedOperationModes } from './plugins/persisted-operations.js';
import { useRequestBodyLimit } from './plugins/request-body-limit.js';
import { useRequestLog } from './plugins/request-log.js';
import { useRequestTelemetry } from './plugins/request-telemetry.js';
import { useTracing } from './plugins/tracing.js';
import { subgraphSchema } from './schema/index.js';
import { GatewayMetrics } from './telemetry/metrics.js';
import { telemetryOf } from './telemetry/request-telemetry.js';
import type { RequestTelemetry } from './telemetry/request-telemetry.js';
import { Tracing } from './telemetry/tracing.js';
import { UpstreamClient } from './upstream/client.js';

export interface GatewayOptions {
  logger?: Logger;
  /** A token GraphiQL's header editor starts with (the sandbox's); a placeholder otherwise. */
  exampleToken?: string;
}

export interface Gateway {
  yoga: YogaServerInstance<Record<string, never>, GatewayContext>;
  server: Server;
  upstream: UpstreamClient;
  metrics: GatewayMetrics;
  tracing: Tracing | null;
  lifecycle: Lifecycle;
  /** Listens on config.host:config.port; resolves to the bound URL of /graphql. */
  listen(): Promise<URL>;
  /** Drains (stops accepting, lets in-flight requests finish within SHUTDOWN_DRAIN_MS), then releases everything. */
  close(): Promise<void>;
}

export const EXAMPLE_MUTATION = `# Record that ambassador 1 completed challenge 1.
# Try ambassadorId "999" (AmbassadorNotFoundError), challengeId "999" (ValidationError),
# or another token in the Headers tab (UNAUTHENTICATED / FORBIDDEN).
mutation AddChallengeHistory {
  addChallengeHistory(
    ambassadorId: "1"
    input: { points: 100, score: 87.5, message: "Great first sale!", challengeId: "1" }
  ) {
    __typename
    ... on AddChallengeHistorySuccess {
      challengeHistory {
        id
        points
        score
        message
        createdAt
        ambassador { id fullName username }
        challenge { id title nbWins titles { lang content } }
      }
    }
    ... on AmbassadorNotFoundError { message ambassadorId }
    ... on ValidationError { message fieldErrors { field path messages } }
  }
}
`;

export function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  if (!config.upstreamUrl) throw new Error('createGateway needs config.upstreamUrl');
  const logger = options.logger ?? createLogger();
  const upstream = new UpstreamClient({
    baseUrl: config.upstreamUrl,
    timeoutMs: config.upstreamTimeoutMs,
    maxResponseBytes: config.upstreamMaxResponseBytes,
    connections: config.upstreamConnections,
  });

  const metrics = new GatewayMetrics();
  upstream.onResponse(metrics.observeUpstream);
  const tracing = Tracing.fromConfig(config);
  const lifecycle = new Lifecycle();

  // One context factory for Yoga and the fast lane.
  const contextOf = (authorization: string | null, telemetry: RequestTelemetry): GatewayContext =>
    createContext({ token: readBearerToken(authorization), upstream, config, telemetry });
  const admissions = new Admissions();

  const yoga = createYoga<Record<string, never>, GatewayContext>({
    // The subgraph schema: the client-facing one plus _service and _entities for a federation router.
    schema: subgraphSchema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    batching: { limit: config.limits.maxBatch },
    // No cross-origin caller unless CORS_ORIGINS lists it (an empty list would mean "any" to Yoga).
    cors: config.corsOrigins.length > 0 ? { origin: config.corsOrigins, methods: ['GET', 'POST'] } : false,
    logging: yogaLogger(logger),
    // Unexpected errors become "Unexpected error." with no stack or detail, in every NODE_ENV.
    maskedErrors: { isDev: false },
    // src/graphiql serves the page and its files itself (Yoga's own page loads them from a CDN).
    graphiql: false,
    context: ({ request }): GatewayContext => contextOf(request.headers.get('authorization'), telemetryOf(request)),
    plugins: [
      useRequestTelemetry(), // first: the next three read what it gathers
      ...(tracing ? [useTracing(tracing)] : []),
      useRequestLog(logger),
      useMetrics(metrics),
      ...useSelfHostedGraphiQL(config, { endpoint: '/graphql', title: 'Challenge gateway', query: EXAMPLE_MUTATION, token: options.exampleToken }),
      // Refusals after the telemetry plugins, so a refused request is still logged and counted.
      useRequestBodyLimit(config.limits.maxRequestBodyBytes),
      useCsrfPrevention('/graphql'),
      lifecycle.readinessPlugin(),
      ...useOperationLimits(config),
      ...usePersistedOperationModes(config.trustedDocuments),
      admissions.plugin(), // last: records only what every plugin above let through
    ],
  });

  const fastLane = withFastLane({
    yoga,
    schema: subgraphSchema,
    admissions,
    contextOf,
    lifecycle,
    logger,
    metrics,
    tracing,
    maxRequestBodyBytes: config.limits.maxRequestBodyBytes,
  });
  const server = createServer(lifecycle.track(fastLane));

  return {
    yoga,
    server,
    upstream,
    metrics,
    tracing,
    lifecycle,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve(new URL(`http://${host}:${port}/graphql`));
        });
      }),
    close: async () => {
      const drained = await lifecycle.drain(server, config.shutdownDrainMs);
      // Calls still waiting after the drain have no client left to answer.
      await (drained ? upstream.close() : upstream.destroy());
      await tracing?.shutdown();
    },
  };
}
