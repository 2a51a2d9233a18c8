// app/: the gateway's assembly: configuration, the Yoga server and its plugin list, shared state, start-up and shutdown.
//
// Reads and validates the environment once, at start-up. Every problem is reported
// (one line each) rather than only the first, so a bad deployment is fixed in one pass.

import { readFileSync } from 'node:fs';
import { shortestRecordTtlS } from '../idempotency/deadlines.js';
import type { LogLevel } from '../telemetry/logging.js';

/**
 * UPSTREAM_QUEUE_TIMEOUT_MS's default: half the default deadline. A call that waited this long
 * behind a full pool meets an upstream already answering slower than the pool drains; failing
 * it unsent (outcome known, safe to retry) beats holding the client for an answer that would
 * likely time out with its outcome unknown.
 */
const DEFAULT_QUEUE_TIMEOUT_MS = 5_000;

export type NodeEnv = 'development' | 'production' | 'test';

export interface GatewayConfig {
  nodeEnv: NodeEnv;
  /** Base URL of the upstream API including its path prefix (e.g. https://host/api/v2); null = sandbox. */
  upstreamUrl: URL | null;
  host: string;
  port: number;
  /** From a call having a free connection to its complete answer (TCP connect included); the queue wait is not counted. */
  upstreamTimeoutMs: number;
  /** Longest a call waits for a free upstream connection; still waiting then, it is not sent (outcome known). */
  upstreamQueueTimeoutMs: number;
  /** Largest upstream response body read; beyond it the answer is BAD_UPSTREAM_RESPONSE. */
  upstreamMaxResponseBytes: number;
  /** Keep-alive connections the gateway holds open to the upstream origin. */
  upstreamConnections: number;
  /** Softening upstream failures: breaker, read retries, per-caller limits, read cache (docs/operations.md, "Upstream protection"). */
  upstreamProtection: UpstreamProtectionSettings;
  /** Most challenge GETs one HTTP request runs at once (all its operations and fields together). */
  challengeLoadConcurrency: number;
  /** Most upstream POSTs one HTTP request runs at once (all its batch items, fields and operations together). */
  batchConcurrency: number;
  /** Most items one addChallengeHistories request may carry; beyond it the request is refused. */
  batchMaxItems: number;
  logLevel: LogLevel;
  /**
   * Trusted documents (TRUSTED_DOCUMENTS_FILE): sha256 hash -> operation text. When set, only these
   * operations run; when null, any operation runs and automatic persisted queries are on.
   */
  trustedDocuments: ReadonlyMap<string, string> | null;
  /** OTLP/HTTP endpoint spans are exported to (OTEL_EXPORTER_OTLP_ENDPOINT); null = no export. */
  otlpEndpoint: URL | null;
  /** service.name on exported spans. */
  serviceName: string;
  /** Bounds on what one HTTP request may ask (docs/operations.md, "Security settings"). */
  limits: RequestLimits;
  upstreamBudget: {
    /** Upstream calls one HTTP request may make, over all its operations, fields and items; beyond it nothing is sent. */
    maxCallsPerRequest: number;
  };
  /** Bounds on what one answer may hold and how long it may take to leave (README, "Security"). */
  answers: AnswerLimits;
  /** How long SIGTERM waits for in-flight requests before closing their connections. */
  shutdownDrainMs: number;
  /** Origins allowed to call cross-origin (CORS); empty = none. */
  corsOrigins: string[];
  /** Schema introspection; off by default in production. */
  introspection: boolean;
  /** "Did you mean ...?" suggestions in validation errors; off by default in production. */
  fieldSuggestions: boolean;
  /** Idempotency keys of awards, and the store they and automatic persisted queries live in. */
  idempotency: IdempotencySettings;
  /** Bounds of the HTTP server itself: time, connections and request bodies held at once. */
  http: HttpLimits;
  /** What a federation router must present (docs/federation.md, "`_service` in production"). */
  federation: FederationSettings;
  /** The GraphiQL page the gateway serves itself (src/graphiql). */
  graphiql: GraphiQLSettings;
}

export interface UpstreamProtectionSettings {
  /** The origin's circuit breaker: `failures` (0 = off) within `windowMs` open it for `openMs`. */
  breaker: { failures: number; windowMs: number; openMs: number };
  /** UPSTREAM_READ_RETRIES: extra tries of a GET after a transient failure; 0 = none. A POST is never retried. */
  readRetries: number;
  /** CALLER_RATE_LIMIT upstream calls per CALLER_RATE_WINDOW_S per caller (token hash); 0 = off. */
  callerRateLimit: number;
  callerRateWindowSeconds: number;
  /** When the shared store cannot answer: let the call go (true) or refuse it unsent (false). */
  callerRateLimitFailOpen: boolean;
  /** CHALLENGE_CACHE_TTL_S: how long a caller's challenge read is reused; 0 = off. */
  challengeCacheTtlSeconds: number;
  /** CHALLENGE_CACHE_MAX_BYTES: bytes of cached reads held (in memory, or per entry and in total in Redis). */
  challengeCacheMaxBytes: number;
}

export interface IdempotencySettings {
  /** How long a finished key's record is kept (IDEMPOTENCY_TTL_S). */
  ttlSeconds: number;
  /** Most keys the in-memory store holds (IDEMPOTENCY_MAX_KEYS); ignored with Redis. */
  maxKeys: number;
  /** Most bytes of recorded answers the in-memory store holds (IDEMPOTENCY_MAX_BYTES); ignored with Redis. */
  maxBytes: number;
  /** Most keys one token holds in the in-memory store (IDEMPOTENCY_MAX_KEYS_PER_TOKEN), and that share of its bytes. */
  maxKeysPerToken: number;
  /** Shared store (REDIS_URL); null = in memory, per process. */
  redisUrl: URL | null;
  /** Shared store in any topology: REDIS_URL (then also in redisUrl), REDIS_SENTINELS or REDIS_CLUSTER_NODES; null = in memory. */
  redis: RedisTopology | null;
  /** Prefix of every Redis key the gateway writes. */
  redisKeyPrefix: string;
  /** Longest wait for one Redis command, and for the first connection at start-up. */
  redisTimeoutMs: number;
  /** REDIS_MIN_REPLICAS: replicas that acknowledge a claim (WAIT) before its POST leaves; >= 1 stands in for persistence. */
  redisMinReplicas: number;
  /** REDIS_UNSAFE_STORE: a Redis that may lose records is only warned about in production (unsafe for money). */
  redisUnsafeStore: boolean;
  /** Largest document stored as an automatic persisted query; larger ones run but are not stored. */
  apqMaxDocumentBytes: number;
  /** Most bytes of documents the in-memory APQ store holds; the oldest go first. */
  apqMaxBytes: number;
}

/** Where the shared store lives: one server, the master of a Sentinel group, or a Cluster's masters. */
export type RedisTopology =
  | { kind: 'single'; url: URL }
  | { kind: 'sentinel'; sentinels: RedisAddress[]; name: string; password: string | null; tls: boolean }
  | { kind: 'cluster'; nodes: RedisAddress[]; password: string | null; tls: boolean };

export interface RedisAddress {
  host: string;
  port: number;
}

export interface HttpLimits {
  /** Time a client has to send its request headers. */
  headersTimeoutMs: number;
  /** Time a client has to send its whole request, body included; beyond it 408 and the connection closes. */
  requestTimeoutMs: number;
  /** Open client connections; beyond it new ones are closed at once. */
  maxConnections: number;
  /** Request-body bytes (as declared) held across all connections at once; beyond it 503 before the body is read. */
  maxInflightBodyBytes: number;
  /** Time an answer has, from its first byte written, to be drained by the client; beyond it the connection is destroyed. */
  responseTimeoutMs: number;
  /** Bytes of answers written but not yet drained, across all connections; beyond it new requests get 503. */
  maxInflightResponseBytes: number;
}

export interface AnswerLimits {
  /** Fields one operation's answer may hold, list arguments' items multiplying what they select (GRAPHQL_MAX_COST). */
  maxCost: number;
  /** Bytes of JSON one operation's answer may take; beyond it RESPONSE_TOO_LARGE, and the answer is not built. */
  maxResponseBytes: number;
}

export interface FederationSettings {
  /** In production, `_service { sdl }` answers only a request carrying this in x-router-secret; null = none set. */
  routerSharedSecret: string | null;
}

export interface GraphiQLSettings {
  /** GRAPHIQL: on while developing, off in production unless asked for. */
  enabled: boolean;
}

export interface RequestLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  /** Root fields of one mutation operation (each may be an upstream POST). */
  maxRootFields: number;
  /** Operations in one HTTP batch (a JSON array). */
  maxBatch: number;
  maxRequestBodyBytes: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const NODE_ENVS: readonly NodeEnv[] = ['development', 'production', 'test'];
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Collects problems while reading values, so all of them can be reported together. */
class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  integer(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
      return fallback;
    }
    return Number(value);
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    this.problems.push(`${name} must be true or false, got "${value}"`);
    return fallback;
  }

  /** Comma-separated origins (scheme://host[:port]), as browsers send them in Origin. */
  origins(name: string): string[] {
    const items = (this.raw(name) ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
    return items.filter((item) => {
      let ok = false;
      try {
        ok = new URL(item).origin === item;
      } catch {
        ok = false;
      }
      if (!ok) this.problems.push(`${name} must list origins like https://app.example.com, got "${item}"`);
      return ok;
    });
  }

  /** A shared secret: long enough to resist guessing; its value never appears in a problem line. */
  secret(name: string, minLength: number): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    if (value.length < minLength) {
      this.problems.push(`${name} must be at least ${minLength} characters long`);
      return null;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
      return fallback;
    }
    return value as T;
  }

  /** Printable ASCII without spaces or braces, at most 100 characters (it begins every Redis key; braces would change a key's Cluster hash tag). */
  keyPrefix(name: string, fallback: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^[\x21-\x7A\x7C\x7E]{1,100}$/.test(value)) {
      this.problems.push(`${name} must be at most 100 printable ASCII characters without spaces or braces`);
      return fallback;
    }
    return value;
  }

  /** redis:// or rediss:// (credentials allowed: the URL is never logged). */
  redisUrl(name: string): URL | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    const url = URL.canParse(value) ? new URL(value) : null;
    if (url?.protocol !== 'redis:' && url?.protocol !== 'rediss:') {
      this.problems.push(`${name} must be a redis:// or rediss:// URL`);
      return null;
    }
    return url;
  }

  /**
   * Exactly one of REDIS_URL, REDIS_SENTINELS (with REDIS_SENTINEL_NAME) or REDIS_CLUSTER_NODES;
   * REDIS_PASSWORD and REDIS_TLS go with the last two (a URL carries its own). Any other combination
   * is one problem line; the password never appears in one.
   */
  redisTopology(set: { url?: string; sentinels?: string; name?: string; nodes?: string; password?: string; tls?: string }): RedisTopology | null {
    const { sentinels, name, nodes } = set;
    // Untrimmed: a password is used exactly as given.
    const password = set.password === undefined ? null : this.env.REDIS_PASSWORD!;
    const tlsSet = set.tls !== undefined;
    const chosen = [set.url && 'REDIS_URL', sentinels && 'REDIS_SENTINELS', nodes && 'REDIS_CLUSTER_NODES'].filter(Boolean);
    const combination =
      chosen.length > 1
        ? `set only one of REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES, not ${chosen.join(' and ')}`
        : Boolean(sentinels) !== Boolean(name)
          ? 'REDIS_SENTINELS and REDIS_SENTINEL_NAME (the master group) go together'
          : (password !== null || tlsSet) && !sentinels && !nodes
            ? 'REDIS_PASSWORD and REDIS_TLS apply to REDIS_SENTINELS or REDIS_CLUSTER_NODES only (a REDIS_URL carries its own: rediss://:password@host)'
            : null;
    if (combination) {
      this.problems.push(combination);
      return null;
    }
    const tls = this.boolean('REDIS_TLS', false);
    if (sentinels) {
      const addresses = this.redisAddresses('REDIS_SENTINELS', sentinels);
      return addresses && { kind: 'sentinel', sentinels: addresses, name: name!, password, tls };
    }
    if (nodes) {
      const addresses = this.redisAddresses('REDIS_CLUSTER_NODES', nodes);
      return addresses && { kind: 'cluster', nodes: addresses, password, tls };
    }
    const url = this.redisUrl('REDIS_URL');
    return url && { kind: 'single', url };
  }

  /** Comma-separated host:port. */
  private redisAddresses(name: string, value: string): RedisAddress[] | null {
    const addresses = value.split(',').map((item) => /^\s*([^\s:,]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})\s*$/.exec(item));
    if (addresses.some((match) => !match || Number(match[2]) < 1 || Number(match[2]) > 65535)) {
      this.problems.push(`${name} must be comma-separated host:port, got "${value}"`);
      return null;
    }
    return addresses.map((match) => ({ host: match![1]!.replace(/^\[|\]$/g, ''), port: Number(match![2]) }));
  }

  httpUrl(name: string): URL | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.problems.push(`${name} must be an absolute http(s) URL, got "${value}"`);
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      this.problems.push(`${name} must use http or https, got "${url.protocol}"`);
      return null;
    }
    if (url.username || url.password || url.search || url.hash) {
      this.problems.push(`${name} must not carry credentials, a query or a fragment`);
      return null;
    }
    return url;
  }

  /** A JSON file of {"<sha256 hex>": "<operation>"}, as codegen's persisted-documents output writes it. */
  trustedDocuments(name: string): ReadonlyMap<string, string> | null {
    const path = this.raw(name);
    if (path === undefined) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      const reason = error instanceof SyntaxError ? 'is not JSON' : 'cannot be read';
      this.problems.push(`${name} file "${path}" ${reason}`);
      return null;
    }
    const entries = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.entries(parsed) : [];
    if (entries.length === 0 || !entries.every(([hash, doc]) => SHA256_HEX.test(hash) && typeof doc === 'string')) {
      this.problems.push(`${name} file "${path}" must be a non-empty JSON object of {"<sha256 hex>": "<operation>"}`);
      return null;
    }
    return new Map(entries as [string, string][]);
  }
}

export function loadConfig(env: Env = process.env): GatewayConfig {
  const read = new EnvReader(env);
  const nodeEnv = read.oneOf('NODE_ENV', NODE_ENVS, 'development');
  const redis = read.redisTopology({
    url: read.raw('REDIS_URL'),
    sentinels: read.raw('REDIS_SENTINELS'),
    name: read.raw('REDIS_SENTINEL_NAME'),
    nodes: read.raw('REDIS_CLUSTER_NODES'),
    password: read.raw('REDIS_PASSWORD'),
    tls: read.raw('REDIS_TLS'),
  });
  const settings: Omit<GatewayConfig, 'upstreamBudget'> = {
    nodeEnv,
    upstreamUrl: read.httpUrl('UPSTREAM_URL'),
    // Loopback unless deployed: a laptop's sandbox should not be reachable from the network.
    host: read.raw('HOST') ?? (nodeEnv === 'production' ? '0.0.0.0' : '127.0.0.1'),
    port: read.integer('PORT', 4000, { max: 65535 }),
    upstreamTimeoutMs: read.integer('UPSTREAM_TIMEOUT_MS', 10_000, { min: 1, max: 600_000 }),
    upstreamQueueTimeoutMs: read.integer('UPSTREAM_QUEUE_TIMEOUT_MS', DEFAULT_QUEUE_TIMEOUT_MS, { max: 600_000 }),
    upstreamMaxResponseBytes: read.integer('UPSTREAM_MAX_RESPONSE_BYTES', 5 * 1024 * 1024, { min: 1024, max: 256 * 1024 * 1024 }),
    upstreamConnections: read.integer('UPSTREAM_CONNECTIONS', 64, { min: 1, max: 10_000 }),
    // Defaults justified in docs/operations.md, "Upstream protection".
    upstreamProtection: {
      breaker: {
        failures: read.integer('UPSTREAM_BREAKER_FAILURES', 20, { max: 100_000 }),
        windowMs: read.integer('UPSTREAM_BREAKER_WINDOW_MS', 10_000, { min: 100, max: 600_000 }),
        openMs: read.integer('UPSTREAM_BREAKER_OPEN_MS', 5_000, { min: 100, max: 600_000 }),
      },
      readRetries: read.integer('UPSTREAM_READ_RETRIES', 2, { max: 10 }),
      callerRateLimit: read.integer('CALLER_RATE_LIMIT', 0, { max: 10_000_000 }),
      callerRateWindowSeconds: read.integer('CALLER_RATE_WINDOW_S', 60, { min: 1, max: 86_400 }),
      callerRateLimitFailOpen: read.boolean('CALLER_RATE_LIMIT_FAIL_OPEN', true),
      challengeCacheTtlSeconds: read.integer('CHALLENGE_CACHE_TTL_S', 0, { max: 86_400 }),
      challengeCacheMaxBytes: read.integer('CHALLENGE_CACHE_MAX_BYTES', 32 * 1024 * 1024, { min: 64 * 1024, max: 4 * 1024 * 1024 * 1024 }),
    },
    challengeLoadConcurrency: read.integer('CHALLENGE_LOAD_CONCURRENCY', 8, { min: 1, max: 1_000 }),
    batchConcurrency: read.integer('BATCH_CONCURRENCY', 8, { min: 1, max: 1_000 }),
    batchMaxItems: read.integer('BATCH_MAX_ITEMS', 500, { min: 1, max: 100_000 }),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    trustedDocuments: read.trustedDocuments('TRUSTED_DOCUMENTS_FILE'),
    otlpEndpoint: read.httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT'),
    serviceName: read.raw('OTEL_SERVICE_NAME') ?? 'challenge-gateway',
    limits: {
      maxDepth: read.integer('GRAPHQL_MAX_DEPTH', 12, { min: 1, max: 1_000 }),
      maxAliases: read.integer('GRAPHQL_MAX_ALIASES', 30, { max: 10_000 }),
      maxTokens: read.integer('GRAPHQL_MAX_TOKENS', 3000, { min: 10, max: 1_000_000 }),
      maxDirectives: read.integer('GRAPHQL_MAX_DIRECTIVES', 20, { max: 10_000 }),
      maxRootFields: read.integer('GRAPHQL_MAX_ROOT_FIELDS', 10, { min: 1, max: 1_000 }),
      maxBatch: read.integer('GRAPHQL_MAX_BATCH', 10, { min: 1, max: 1_000 }),
      maxRequestBodyBytes: read.integer('MAX_REQUEST_BODY_BYTES', 1024 * 1024, { min: 1024, max: 100 * 1024 * 1024 }),
    },
    shutdownDrainMs: read.integer('SHUTDOWN_DRAIN_MS', 10_000, { max: 600_000 }),
    corsOrigins: read.origins('CORS_ORIGINS'),
    // Open while developing (GraphiQL, codegen), closed in production unless asked for.
    introspection: read.boolean('GRAPHQL_INTROSPECTION', nodeEnv !== 'production'),
    fieldSuggestions: read.boolean('GRAPHQL_FIELD_SUGGESTIONS', nodeEnv !== 'production'),
    idempotency: {
      ttlSeconds: read.integer('IDEMPOTENCY_TTL_S', 86_400, { min: 60, max: 30 * 86_400 }),
      maxKeys: read.integer('IDEMPOTENCY_MAX_KEYS', 100_000, { min: 1, max: 10_000_000 }),
      maxBytes: read.integer('IDEMPOTENCY_MAX_BYTES', 256 * 1024 * 1024, { min: 1024 * 1024, max: 16 * 1024 * 1024 * 1024 }),
      // 0 until set below: a tenth of IDEMPOTENCY_MAX_KEYS by default.
      maxKeysPerToken: read.integer('IDEMPOTENCY_MAX_KEYS_PER_TOKEN', 0, { min: 1, max: 10_000_000 }),
      redisUrl: redis?.kind === 'single' ? redis.url : null,
      redis,
      redisKeyPrefix: read.keyPrefix('REDIS_KEY_PREFIX', 'challenge-gateway:'),
      redisTimeoutMs: read.integer('REDIS_TIMEOUT_MS', 500, { min: 10, max: 60_000 }),
      redisMinReplicas: read.integer('REDIS_MIN_REPLICAS', 0, { max: 100 }),
      redisUnsafeStore: read.boolean('REDIS_UNSAFE_STORE', false),
      apqMaxDocumentBytes: read.integer('APQ_MAX_DOCUMENT_BYTES', 64 * 1024, { min: 1024, max: 10 * 1024 * 1024 }),
      apqMaxBytes: read.integer('APQ_MAX_BYTES', 16 * 1024 * 1024, { min: 64 * 1024, max: 4 * 1024 * 1024 * 1024 }),
    },
    http: {
      headersTimeoutMs: read.integer('HEADERS_TIMEOUT_MS', 10_000, { min: 1_000, max: 120_000 }),
      requestTimeoutMs: read.integer('REQUEST_TIMEOUT_MS', 30_000, { min: 1_000, max: 600_000 }),
      maxConnections: read.integer('MAX_CONNECTIONS', 1_000, { min: 1, max: 100_000 }),
      maxInflightBodyBytes: read.integer('MAX_INFLIGHT_BODY_BYTES', 64 * 1024 * 1024, { min: 1024, max: 4 * 1024 * 1024 * 1024 }),
      responseTimeoutMs: read.integer('RESPONSE_TIMEOUT_MS', 30_000, { min: 100, max: 600_000 }),
      maxInflightResponseBytes: read.integer('MAX_INFLIGHT_RESPONSE_BYTES', 64 * 1024 * 1024, { min: 1024, max: 4 * 1024 * 1024 * 1024 }),
    },
    answers: {
      // A full batch of BATCH_MAX_ITEMS (500) with every field of its result selected costs about 17,000.
      maxCost: read.integer('GRAPHQL_MAX_COST', 25_000, { min: 1, max: 100_000_000 }),
      // A full batch's answer is about 0.3 MiB; four times the largest answer a client legitimately gets.
      maxResponseBytes: read.integer('MAX_RESPONSE_BYTES', 2 * 1024 * 1024, { min: 1024, max: 1024 * 1024 * 1024 }),
    },
    federation: { routerSharedSecret: read.secret('ROUTER_SHARED_SECRET', 16) },
    graphiql: { enabled: read.boolean('GRAPHIQL', nodeEnv !== 'production') },
  };
  const config: GatewayConfig = {
    ...settings,
    upstreamBudget: {
      // One full batch per request by default: what a single addChallengeHistories may already ask.
      maxCallsPerRequest: read.integer('MAX_UPSTREAM_CALLS_PER_REQUEST', settings.batchMaxItems, { min: 1, max: 100_000 }),
    },
  };
  if (config.http.headersTimeoutMs > config.http.requestTimeoutMs) {
    read.problems.push(`HEADERS_TIMEOUT_MS (${config.http.headersTimeoutMs}) must not exceed REQUEST_TIMEOUT_MS (${config.http.requestTimeoutMs})`);
  }
  if (config.http.maxInflightBodyBytes < config.limits.maxRequestBodyBytes) {
    read.problems.push(
      `MAX_INFLIGHT_BODY_BYTES (${config.http.maxInflightBodyBytes}) must be at least MAX_REQUEST_BODY_BYTES (${config.limits.maxRequestBodyBytes})`,
    );
  }
  // A tenth by default: filling the in-memory store takes ten tokens the upstream accepts, never one.
  if (config.idempotency.maxKeysPerToken === 0) config.idempotency.maxKeysPerToken = Math.max(1, Math.floor(config.idempotency.maxKeys / 10));
  if (config.idempotency.maxKeysPerToken > config.idempotency.maxKeys) {
    read.problems.push(
      `IDEMPOTENCY_MAX_KEYS_PER_TOKEN (${config.idempotency.maxKeysPerToken}) must not exceed IDEMPOTENCY_MAX_KEYS (${config.idempotency.maxKeys})`,
    );
  }
  if (config.http.maxInflightResponseBytes < config.answers.maxResponseBytes) {
    read.problems.push(
      `MAX_INFLIGHT_RESPONSE_BYTES (${config.http.maxInflightResponseBytes}) must be at least MAX_RESPONSE_BYTES (${config.answers.maxResponseBytes})`,
    );
  }
  if (nodeEnv === 'production' && !config.upstreamUrl && read.raw('UPSTREAM_URL') === undefined) {
    read.problems.push('UPSTREAM_URL is required when NODE_ENV=production (without it the gateway would serve the in-memory sandbox).');
  }
  // A record must outlive its award (queue wait, deadline, the store's calls: the in-flight mark), or a retry would POST again.
  const shortestTtlS = shortestRecordTtlS({ ...config, redisTimeoutMs: config.idempotency.redisTimeoutMs });
  if (config.idempotency.ttlSeconds < shortestTtlS) {
    read.problems.push(
      `IDEMPOTENCY_TTL_S (${config.idempotency.ttlSeconds}) must be at least ${shortestTtlS}: twice the longest an award can take from claim to settle ` +
        '(UPSTREAM_QUEUE_TIMEOUT_MS + UPSTREAM_TIMEOUT_MS + 2 × REDIS_TIMEOUT_MS + 1 s); raise IDEMPOTENCY_TTL_S or lower those',
    );
  }
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}
