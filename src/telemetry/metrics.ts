// Prometheus metrics, one registry per gateway (two gateways in a test process never clash).
// Labels are bounded by the schema and the error codes: root field names (not the client's
// operation name or aliases), outcome words, upstream route templates and statuses.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { STORE_UNAVAILABLE_REASONS } from '../idempotency/store.js';
import { errorCodeLabel } from './outcomes.js';
import type { RequestTelemetry } from './request-telemetry.js';
import type { UpstreamResponseInfo } from '../upstream/types.js';
import type { BreakerState } from '../upstream/breaker.js';

// Seconds; the upstream deadline defaults to 10 s.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests = new Histogram({
    name: 'gateway_graphql_request_duration_seconds',
    help: 'GraphQL requests by root fields and outcome (result __typename, error code, or "ok"); _count is the request count.',
    labelNames: ['operation', 'outcome'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  private readonly upstream = new Histogram({
    name: 'gateway_upstream_request_duration_seconds',
    help: 'Upstream REST calls by method, route template and status ("none" when no answer); _count is the call count.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });

  /** Requests the fast lane answered (lane/fast-lane.ts); Yoga answered the others. */
  readonly fastLaneRequests = new Counter({
    name: 'gateway_fast_lane_requests_total',
    help: 'GraphQL requests answered by the fast lane (an admitted document, served without Yoga); Yoga answered the rest.',
    registers: [this.registry],
  });

  /** Keyed awards refused because the idempotency store could not answer (IDEMPOTENCY_STORE_UNAVAILABLE), by reason. */
  readonly idempotencyStoreUnavailable = new Counter({
    name: 'gateway_idempotency_store_unavailable_total',
    help: 'Keyed awards refused with IDEMPOTENCY_STORE_UNAVAILABLE, nothing sent; reason: unreachable, full, unfit, reset, replication.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** How long the Redis connection was down since it first came up (keyed awards refused meanwhile); read at each scrape. */
  observeRedisUnavailable(read: () => number): void {
    new Counter({
      name: 'gateway_redis_unavailable_seconds_total',
      help: 'Seconds without a ready connection to the Redis master(s) the gateway writes to, since the first connection: keyed awards were refused (IDEMPOTENCY_STORE_UNAVAILABLE) meanwhile, e.g. during a failover.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  /** Losses of the idempotency store's data the gateway detected (store-check.ts). */
  readonly idempotencyStoreResets = new Counter({
    name: 'gateway_idempotency_store_resets_total',
    help: 'Times the idempotency store was found to have lost its data (its epoch key gone, or a settle finding its record gone).',
    registers: [this.registry],
  });

  // Upstream protection (src/upstream/breaker.ts, retry.ts; src/ratelimit; src/cache).
  /** Breaker state changes, by the state entered. */
  readonly breakerTransitions = new Counter({
    name: 'gateway_upstream_circuit_transitions_total',
    help: 'Upstream circuit breaker state changes, by the state entered (open, half_open, closed).',
    labelNames: ['to'] as const,
    registers: [this.registry],
  });
  /** GET retries sent (UPSTREAM_READ_RETRIES), and retries the retry budget refused. */
  readonly readRetries = new Counter({
    name: 'gateway_upstream_read_retries_total',
    help: 'Upstream GETs retried after a transient failure ("sent"), or not retried because the retry budget was spent ("budget_spent").',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  /** Calls refused unsent by the per-caller limit, by why. */
  readonly callerLimited = new Counter({
    name: 'gateway_caller_rate_limited_total',
    help: 'Upstream calls refused unsent by the per-caller limit: "limit" (CALLER_RATE_LIMIT), "upstream_429" (the upstream asked this caller to wait), "store" (fail closed).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Challenge reads by where the answer came from. */
  readonly challengeCache = new Counter({
    name: 'gateway_challenge_cache_reads_total',
    help: 'Challenge reads with the cache on: "hit", "shared" (joined an identical read in flight) or "miss" (one GET).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** Reports the breaker's state (0 closed, 1 half-open, 2 open) whenever /metrics is read. */
  observeBreaker(read: () => BreakerState): void {
    new Gauge({
      name: 'gateway_upstream_circuit_state',
      help: 'The upstream circuit breaker: 0 closed, 1 half-open (trial calls), 2 open (calls refused unsent).',
      registers: [this.registry],
      collect() {
        this.set(BREAKER_STATE_VALUES[read()]);
      },
    });
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Every reason shows from the start (0), so a dashboard's rate() has a series before the first refusal.
    for (const reason of STORE_UNAVAILABLE_REASONS) this.idempotencyStoreUnavailable.inc({ reason }, 0);
  }

  /** Observes a finished request, when it produced a GraphQL result. */
  observeRequest(request: RequestTelemetry): void {
    if (!request.isGraphQL) return;
    const durationMs = performance.now() - request.started;
    this.requests.observe({ operation: request.rootFields ?? 'none', outcome: outcomeLabel(request) }, durationMs / 1000);
  }

  /** Reports the request-body bytes held across all connections (http/guard.ts) whenever /metrics is read. */
  observeInflightBodies(read: () => number): void {
    new Gauge({
      name: 'gateway_inflight_body_bytes',
      help: 'Request-body bytes (as declared) held across all connections now; bounded by MAX_INFLIGHT_BODY_BYTES.',
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** Reports the answer bytes written and not yet drained across all connections (http/guard.ts) whenever /metrics is read. */
  observeUndrainedAnswers(read: () => number): void {
    new Gauge({
      name: 'gateway_undrained_response_bytes',
      help: 'Answer bytes written and not yet drained by their clients, across all connections now; bounded by MAX_INFLIGHT_RESPONSE_BYTES.',
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** An UpstreamClient onResponse observer. */
  readonly observeUpstream = (info: UpstreamResponseInfo): void => {
    this.upstream.observe({ method: info.method, route: info.route, status: info.status ?? 'none' }, info.durationMs / 1000);
  };
}

/** One word per request: a listed error code, else the result's object type, else "ok". */
function outcomeLabel(request: RequestTelemetry): string {
  return request.errorCode !== null ? errorCodeLabel(request.errorCode) : (request.resultType ?? 'ok');
}

const BREAKER_STATE_VALUES: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };
