// Wires Yoga, its plugins, the upstream client and the HTTP server. No environment reading
// here (config.ts does that) and no knowledge of the sandbox (main.ts chooses it).

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga } from 'graphql-yoga';
import type { Plugin, YogaServerInstance } from 'graphql-yoga';
import type { GatewayConfig } from './config.js';
import { boundedParserCache } from './document-cache.js';
import { Lifecycle } from './lifecycle.js';
import { createSharedState } from './shared-state.js';
import { createChallengeCache } from '../datasource/challenge-cache.js';
import { ERROR_MASKING } from '../errors/masking.js';
import { EXAMPLE_MUTATION } from '../graphiql/example.js';
import { useSelfHostedGraphiQL } from '../graphiql/plugin.js';
import { InflightBodies, UndrainedAnswers, answerClientError, serverOptions, withHttpGuard } from '../http/guard.js';
import { Admissions, withFastLane } from '../lane/fast-lane.js';
import type { FastLaneStatus } from '../lane/fast-lane.js';
import { laneSafe } from '../lane/safety.js';
import { corsOptions } from '../plugins/cors.js';
import { useCsrfPrevention } from '../plugins/csrf.js';
import { IDEMPOTENCY_KEY_HEADER, idempotentReplayedHeader, useIdempotencyKeyHeader } from '../plugins/idempotency-key.js';
import { requestMetrics, useMetrics } from '../plugins/metrics.js';
import { useOperationLimits } from '../plugins/operation-limits.js';
import { usePersistedOperationModes } from '../plugins/persisted-operations.js';
import { useRequestBodyLimit } from '../plugins/request-body-limit.js';
import { requestIdHeader, requestLog } from '../plugins/request-log.js';
import { requestFacts, useRequestObservers } from '../plugins/request-telemetry.js';
import { useRequireOperation } from '../plugins/require-operation.js';
import { useResponseSizeLimit } from '../plugins/response-size.js';
import { useServiceSdlGuard } from '../plugins/service-sdl-guard.js';
import { requestSpans } from '../plugins/tracing.js';
import { useUpstreamBudget } from '../plugins/upstream-budget.js';
import { useVariableErrorCodes } from '../plugins/variable-errors.js';
import { CallerLimiter } from '../ratelimit/caller-limiter.js';
import { createContext, readBearerToken } from '../schema/context.js';
import type { GatewayContext } from '../schema/context.js';
import { subgraphSchema } from '../schema/index.js';
import { createLogger, yogaLogger } from '../telemetry/logging.js';
import type { Logger } from '../telemetry/logging.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { runObservers } from '../telemetry/observers.js';
import type { RequestObserver } from '../telemetry/observers.js';
import { telemetryOf } from '../telemetry/request-telemetry.js';
import type { RequestTelemetry } from '../telemetry/request-telemetry.js';
import { Tracing } from '../telemetry/tracing.js';
import { UpstreamClient } from '../upstream/client.js';

export interface GatewayOptions {
  logger?: Logger;
  /** A token GraphiQL's header editor starts with (the sandbox's); a placeholder otherwise. */
  exampleToken?: string;
  /** Refuse requests whose Host is not a loopback name (the sandbox: DNS rebinding onto its GraphiQL page and token). */
  loopbackHostsOnly?: boolean;
  /** Let pages served from this machine (http://localhost:*, 127.0.0.1, [::1]) call cross-origin: the sandbox's dev servers. */
  loopbackOrigins?: boolean;
  /**
   * More Yoga plugins (a deployment's own), after the gateway's. Undeclared ones (lane/safety.ts) turn the
   * fast lane off; observers wrapped by useRequestObservers run on both paths.
   */
  plugins?: Plugin[];
}

export interface Gateway {
  yoga: YogaServerInstance<Record<string, never>, GatewayContext>;
  server: Server;
  upstream: UpstreamClient;
  metrics: GatewayMetrics;
  tracing: Tracing | null;
  lifecycle: Lifecycle;
  /** Request-body bytes held right now across all connections (bounded by MAX_INFLIGHT_BODY_BYTES). */
  inflightBodies: InflightBodies;
  /** Answer bytes written and not yet drained, across all connections (bounded by MAX_INFLIGHT_RESPONSE_BYTES). */
  undrainedAnswers: UndrainedAnswers;
  /** Whether the fast lane runs, and why (also logged once at start-up). */
  fastLane: Promise<FastLaneStatus>;
  /** Listens on config.host:config.port; resolves to the bound URL of /graphql. */
  listen(): Promise<URL>;
  /** Drains (stops accepting, lets in-flight requests finish within SHUTDOWN_DRAIN_MS), then releases everything. */
  close(): Promise<void>;
}

export function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  if (!config.upstreamUrl) throw new Error('createGateway needs config.upstreamUrl');
  const logger = options.logger ?? createLogger();
  const metrics = new GatewayMetrics();
  const shared = createSharedState(config, {
    logger,
    onStoreUnavailable: (reason) => metrics.idempotencyStoreUnavailable.inc({ reason }),
    onStoreReset: () => metrics.idempotencyStoreResets.inc(),
  });
  const protection = config.upstreamProtection;
  // Always on: a caller the upstream answered 429 with Retry-After is refused unsent until then
  // (on every instance, through Redis when configured). The call count only with CALLER_RATE_LIMIT > 0.
  const callerGate = new CallerLimiter({
    limit: protection.callerRateLimit,
    windowSeconds: protection.callerRateWindowSeconds,
    failOpen: protection.callerRateLimitFailOpen,
    redis: shared.redis,
    keyPrefix: config.idempotency.redisKeyPrefix,
    logger,
    onRefused: (reason) => metrics.callerLimited.inc({ reason }),
  });
  const upstream = new UpstreamClient({
    baseUrl: config.upstreamUrl,
    timeoutMs: config.upstreamTimeoutMs,
    maxResponseBytes: config.upstreamMaxResponseBytes,
    connections: config.upstreamConnections,
    queueTimeoutMs: config.upstreamQueueTimeoutMs,
    breaker: config.upstreamProtection.breaker,
    readRetries: config.upstreamProtection.readRetries,
    onReadRetry: (result) => metrics.readRetries.inc({ result }),
    callerGate,
    // One line per state change: an operator sees when and why calls stopped being sent.
    onBreakerTransition: ({ from, to, failures }) => {
      metrics.breakerTransitions.inc({ to });
      const fields = { origin: config.upstreamUrl!.origin, from, to, ...(failures > 0 ? { failures, windowMs: config.upstreamProtection.breaker.windowMs } : {}) };
      if (to === 'open') logger.warn('upstream circuit open: calls refused unsent', { ...fields, openMs: config.upstreamProtection.breaker.openMs });
      else logger.info(`upstream circuit ${to === 'closed' ? 'closed' : 'half-open'}`, fields);
    },
  });

  upstream.onResponse(metrics.observeUpstream);
  if (upstream.breaker) metrics.observeBreaker(() => upstream.breaker!.state);
  const tracing = Tracing.fromConfig(config);
  const lifecycle = new Lifecycle();
  const challengeCache = createChallengeCache(config, shared.redis, (result) => metrics.challengeCache.inc({ result }));
  if (shared.redis) metrics.observeRedisUnavailable(shared.redis.unavailableSeconds);

  // One context factory for Yoga and the fast lane (which never takes a request with an Idempotency-Key header).
  const contextOf = (authorization: string | null, telemetry: RequestTelemetry, idempotencyKeyHeader: string | null = null): GatewayContext =>
    createContext({
      token: readBearerToken(authorization),
      upstream,
      config,
      telemetry,
      idempotency: shared.idempotency,
      idempotencyKeyHeader,
      challengeCache,
    });
  const admissions = new Admissions();

  // What watches each request, run in this order by Yoga's path and the fast lane alike (telemetry/observers.ts).
  const observers: RequestObserver[] = [
    requestFacts(subgraphSchema), // first: the others read what it gathers
    ...(tracing ? [requestSpans(tracing)] : []),
    requestIdHeader,
    idempotentReplayedHeader,
    requestLog(logger),
    requestMetrics(metrics),
  ];
  // Each plugin says why the fast lane may skip its hooks (lane/safety.ts); one that does not turns the lane off.
  const plugins: Plugin[] = [
    // Lane-safe as made: the lane runs the observers of any useRequestObservers plugin (lane/safety.ts).
    useRequestObservers(observers),
    laneSafe(useMetrics(metrics), 'serves GET /metrics only'),
    ...laneSafe(
      useSelfHostedGraphiQL(config, { endpoint: '/graphql', title: 'Challenge gateway', query: EXAMPLE_MUTATION, token: options.exampleToken }),
      'acts on GET requests for the page and on /graphiql/ files only; the lane takes only POSTs',
    ),
    // Refusals after the observers' plugin, so a refused request is still logged and counted.
    laneSafe(useRequestBodyLimit(config.limits.maxRequestBodyBytes), 'the lane takes only POSTs it lets through (bodyLengthRefusal)'),
    laneSafe(useCsrfPrevention('/graphql'), 'the lane takes only POSTs it lets through (csrfAllowsPost)'),
    laneSafe(lifecycle.readinessPlugin(), 'acts on /ready only'),
    ...laneSafe(useOperationLimits(config), 'validation: the lane serves only documents Yoga validated and executed'),
    laneSafe(useVariableErrorCodes(), 'codes variable errors only, and the lane hands every request whose variables do not coerce to Yoga'),
    ...laneSafe(useServiceSdlGuard(config), 'documents that select _service are never admitted to the lane'),
    // before persisted operations, which would answer 200 PersistedQueryKeyNotFound
    laneSafe(useRequireOperation(), 'the lane serves only bodies with a query string'),
    ...laneSafe(usePersistedOperationModes(config, shared.redis), 'bodies with extensions never take the lane; a full document only once Yoga executed it'),
    laneSafe(useIdempotencyKeyHeader(), 'requests with an Idempotency-Key header never take the lane (carriesIdempotencyKey)'),
    laneSafe(useUpstreamBudget(subgraphSchema, config), 'acts on HTTP batches only, which never take the lane; one operation reserves its calls inside execution, on both paths'),
    // GRAPHQL_MAX_COST is checked inside execution (schema/upstream-calls.ts), on both paths.
    laneSafe(useResponseSizeLimit(config.answers.maxResponseBytes), 'the lane bounds its result with the same boundAnswer'),
    ...(options.plugins ?? []),
    // last: records only what every plugin above let through
    laneSafe(admissions.plugin(), 'it is what admits documents to the lane'),
  ];

  const yoga = createYoga<Record<string, never>, GatewayContext>({
    // The subgraph schema: the client-facing one plus _service and _entities for a federation router.
    schema: subgraphSchema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    // Documents longer than 32 KiB are parsed for their request only, never kept.
    parserAndValidationCache: boundedParserCache(),
    batching: { limit: config.limits.maxBatch },
    cors: corsOptions(config.corsOrigins, { loopback: options.loopbackOrigins ?? false }),
    logging: yogaLogger(logger),
    // Unexpected errors become "Unexpected error." with no stack or detail, in every NODE_ENV.
    maskedErrors: ERROR_MASKING,
    // src/graphiql serves the page and its files itself (Yoga's own page loads them from a CDN).
    graphiql: false,
    context: ({ request }): GatewayContext =>
      contextOf(request.headers.get('authorization'), telemetryOf(request), request.headers.get(IDEMPOTENCY_KEY_HEADER)),
    plugins,
  });

  const fastLane = withFastLane({
    yoga,
    plugins,
    schema: subgraphSchema,
    admissions,
    contextOf,
    lifecycle,
    logger,
    metrics,
    maxRequestBodyBytes: config.limits.maxRequestBodyBytes,
    maxResponseBytes: config.answers.maxResponseBytes,
    masking: ERROR_MASKING,
  });
  const inflightBodies = new InflightBodies(config.http.maxInflightBodyBytes);
  metrics.observeInflightBodies(() => inflightBodies.bytes);
  const undrainedAnswers = new UndrainedAnswers(config.http.maxInflightResponseBytes, config.http.responseTimeoutMs);
  metrics.observeUndrainedAnswers(() => undrainedAnswers.bytes);
  const guarded = withHttpGuard(
    {
      maxRequestBodyBytes: config.limits.maxRequestBodyBytes,
      inflightBodies,
      undrainedAnswers,
      loopbackHostsOnly: options.loopbackHostsOnly ?? false,
      observe: runObservers(observers),
    },
    fastLane.handler,
  );
  const tracked = lifecycle.track(guarded);
  const server = createServer(serverOptions(config.http), tracked);
  server.on('checkContinue', tracked);
  server.maxConnections = config.http.maxConnections;
  server.on('clientError', answerClientError);

  return {
    yoga,
    server,
    upstream,
    metrics,
    tracing,
    lifecycle,
    inflightBodies,
    undrainedAnswers,
    fastLane: fastLane.status,
    listen: async () => {
      await fastLane.status; // the lane's start-up checks decide before the first request
      await shared.ready; // a store unfit for money stops a production gateway here (StartupError)
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve(new URL(`http://${host}:${port}/graphql`));
        });
      });
    },
    close: async () => {
      const drained = await lifecycle.drain(server, config.shutdownDrainMs);
      // Calls still waiting after the drain have no client left to answer.
      await (drained ? upstream.close() : upstream.destroy());
      await tracing?.shutdown();
      callerGate.close();
      await shared.close();
    },
  };
}
