// Start-up configuration: every problem reported at once, one clear line each.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { claimToSettleMs, shortestRecordTtlS } from '../../src/idempotency/deadlines.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const HASH = 'a'.repeat(64);

test('defaults: sandbox, info logs, any operation (APQ), no span export', () => {
  expect(loadConfig({})).toMatchObject({
    nodeEnv: 'development',
    upstreamUrl: null,
    host: '127.0.0.1',
    port: 4000,
    logLevel: 'info',
    trustedDocuments: null,
    otlpEndpoint: null,
    serviceName: 'challenge-gateway',
  });
});

test('the operational variables are read', () => {
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    TRUSTED_DOCUMENTS_FILE: file('ok.json', JSON.stringify({ [HASH]: '{ __typename }' })),
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    OTEL_SERVICE_NAME: 'gateway-eu',
  });
  expect(config.logLevel).toBe('warn');
  expect([...config.trustedDocuments!]).toEqual([[HASH, '{ __typename }']]);
  expect(config.otlpEndpoint?.href).toBe('http://collector:4318/');
  expect(config.serviceName).toBe('gateway-eu');
});

test('every bad value is reported, one message each', () => {
  const problems = problemsOf({
    NODE_ENV: 'staging',
    UPSTREAM_URL: 'not a url',
    PORT: '99999',
    UPSTREAM_TIMEOUT_MS: '1.5',
    LOG_LEVEL: 'verbose',
    TRUSTED_DOCUMENTS_FILE: join(dir, 'missing.json'),
    OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317',
  });
  expect(problems).toEqual([
    'NODE_ENV must be one of development, production, test, got "staging"',
    'UPSTREAM_URL must be an absolute http(s) URL, got "not a url"',
    'PORT must be a whole number from 0 to 65535, got "99999"',
    'UPSTREAM_TIMEOUT_MS must be a whole number from 1 to 600000, got "1.5"',
    'LOG_LEVEL must be one of debug, info, warn, error, got "verbose"',
    `TRUSTED_DOCUMENTS_FILE file "${join(dir, 'missing.json')}" cannot be read`,
    'OTEL_EXPORTER_OTLP_ENDPOINT must use http or https, got "grpc:"',
  ]);
});

test('a trusted-documents file must be a JSON object of sha256 hashes to operations', () => {
  const notJson = file('bad.json', '{ nope');
  expect(problemsOf({ TRUSTED_DOCUMENTS_FILE: notJson })).toEqual([`TRUSTED_DOCUMENTS_FILE file "${notJson}" is not JSON`]);
  for (const content of ['[]', '{}', JSON.stringify({ abc: '{ __typename }' }), JSON.stringify({ [HASH]: 42 })]) {
    const path = file('shape.json', content);
    expect(problemsOf({ TRUSTED_DOCUMENTS_FILE: path })).toEqual([
      `TRUSTED_DOCUMENTS_FILE file "${path}" must be a non-empty JSON object of {"<sha256 hex>": "<operation>"}`,
    ]);
  }
});

test('NODE_ENV=production needs UPSTREAM_URL, reported with the other problems', () => {
  expect(problemsOf({ NODE_ENV: 'production', LOG_LEVEL: 'loud' })).toEqual([
    'LOG_LEVEL must be one of debug, info, warn, error, got "loud"',
    'UPSTREAM_URL is required when NODE_ENV=production (without it the gateway would serve the in-memory sandbox).',
  ]);
  expect(loadConfig({ NODE_ENV: 'production', UPSTREAM_URL: 'https://api.example.test/api/v2' }).host).toBe('0.0.0.0');
});

test('batch awarding: BATCH_CONCURRENCY (8) and BATCH_MAX_ITEMS (500), whole numbers from 1', () => {
  expect(loadConfig({})).toMatchObject({ batchConcurrency: 8, batchMaxItems: 500 });
  expect(loadConfig({ BATCH_CONCURRENCY: '2', BATCH_MAX_ITEMS: '50' })).toMatchObject({ batchConcurrency: 2, batchMaxItems: 50 });
  expect(problemsOf({ BATCH_CONCURRENCY: '0', BATCH_MAX_ITEMS: 'many' })).toEqual([
    'BATCH_CONCURRENCY must be a whole number from 1 to 1000, got "0"',
    'BATCH_MAX_ITEMS must be a whole number from 1 to 100000, got "many"',
  ]);
});

test('MAX_UPSTREAM_CALLS_PER_REQUEST defaults to BATCH_MAX_ITEMS, a whole number from 1 to 100000', () => {
  expect(loadConfig({}).upstreamBudget).toEqual({ maxCallsPerRequest: 500 });
  expect(loadConfig({ BATCH_MAX_ITEMS: '40' }).upstreamBudget).toEqual({ maxCallsPerRequest: 40 });
  expect(loadConfig({ BATCH_MAX_ITEMS: '40', MAX_UPSTREAM_CALLS_PER_REQUEST: '2000' }).upstreamBudget).toEqual({ maxCallsPerRequest: 2000 });
  expect(problemsOf({ MAX_UPSTREAM_CALLS_PER_REQUEST: '0' })).toEqual(['MAX_UPSTREAM_CALLS_PER_REQUEST must be a whole number from 1 to 100000, got "0"']);
  expect(problemsOf({ MAX_UPSTREAM_CALLS_PER_REQUEST: '100001' })).toEqual(['MAX_UPSTREAM_CALLS_PER_REQUEST must be a whole number from 1 to 100000, got "100001"']);
});

test('security settings: documented defaults, introspection and suggestions off in production', () => {
  expect(loadConfig({})).toMatchObject({
    limits: { maxDepth: 12, maxAliases: 30, maxTokens: 3000, maxDirectives: 20, maxRootFields: 10, maxBatch: 10, maxRequestBodyBytes: 1_048_576 },
    shutdownDrainMs: 10_000,
    corsOrigins: [],
    introspection: true,
    fieldSuggestions: true,
  });
  expect(loadConfig({ NODE_ENV: 'production', UPSTREAM_URL: 'https://api.example.test/api/v2' })).toMatchObject({
    introspection: false,
    fieldSuggestions: false,
  });
  expect(loadConfig({ CORS_ORIGINS: 'https://a.example.test, http://localhost:3000', GRAPHQL_INTROSPECTION: 'false', SHUTDOWN_DRAIN_MS: '0' })).toMatchObject({
    corsOrigins: ['https://a.example.test', 'http://localhost:3000'],
    introspection: false,
    shutdownDrainMs: 0,
  });
});

test('bad security settings are reported with the rest', () => {
  expect(
    problemsOf({ GRAPHQL_MAX_DEPTH: '0', GRAPHQL_MAX_BATCH: 'ten', CORS_ORIGINS: 'https://ok.example.test,*,https://x.test/path', GRAPHQL_FIELD_SUGGESTIONS: 'maybe' }),
  ).toEqual([
    'GRAPHQL_MAX_DEPTH must be a whole number from 1 to 1000, got "0"',
    'GRAPHQL_MAX_BATCH must be a whole number from 1 to 1000, got "ten"',
    'CORS_ORIGINS must list origins like https://app.example.com, got "*"',
    'CORS_ORIGINS must list origins like https://app.example.com, got "https://x.test/path"',
    'GRAPHQL_FIELD_SUGGESTIONS must be true or false, got "maybe"',
  ]);
});

test('upstream queue wait: UPSTREAM_QUEUE_TIMEOUT_MS (5000), a whole number from 0 to 600000', () => {
  expect(loadConfig({})).toMatchObject({ upstreamTimeoutMs: 10_000, upstreamQueueTimeoutMs: 5_000 });
  expect(loadConfig({ UPSTREAM_QUEUE_TIMEOUT_MS: '0' }).upstreamQueueTimeoutMs).toBe(0);
  expect(problemsOf({ UPSTREAM_QUEUE_TIMEOUT_MS: '600001' })).toEqual([
    'UPSTREAM_QUEUE_TIMEOUT_MS must be a whole number from 0 to 600000, got "600001"',
  ]);
});

test('idempotency and shared store: documented defaults, the variables read, bad values one line each', () => {
  expect(loadConfig({}).idempotency).toEqual({
    ttlSeconds: 86_400,
    maxKeys: 100_000,
    maxBytes: 256 * 1024 * 1024,
    maxKeysPerToken: 10_000,
    redisUrl: null,
    redis: null,
    redisKeyPrefix: 'challenge-gateway:',
    redisTimeoutMs: 500,
    redisMinReplicas: 0,
    redisUnsafeStore: false,
    apqMaxDocumentBytes: 64 * 1024,
    apqMaxBytes: 16 * 1024 * 1024,
  });
  expect(loadConfig({ REDIS_MIN_REPLICAS: '2', REDIS_UNSAFE_STORE: 'true' }).idempotency).toMatchObject({ redisMinReplicas: 2, redisUnsafeStore: true });
  expect(problemsOf({ REDIS_MIN_REPLICAS: '-1' })).toHaveLength(1);
  const set = loadConfig({
    IDEMPOTENCY_TTL_S: '3600',
    IDEMPOTENCY_MAX_KEYS: '10',
    REDIS_URL: 'redis://:secret@cache:6380/2',
    REDIS_KEY_PREFIX: 'eu:',
    REDIS_TIMEOUT_MS: '250',
    APQ_MAX_DOCUMENT_BYTES: '4096',
    APQ_MAX_BYTES: '1048576',
  }).idempotency;
  expect(set).toMatchObject({ ttlSeconds: 3600, maxKeys: 10, redisKeyPrefix: 'eu:', redisTimeoutMs: 250, apqMaxDocumentBytes: 4096, apqMaxBytes: 1048576 });
  expect(set.redisUrl?.host).toBe('cache:6380');

  const problems = problemsOf({
    IDEMPOTENCY_TTL_S: '0',
    IDEMPOTENCY_MAX_KEYS: '99999999999',
    REDIS_URL: 'http://cache:6379',
    REDIS_TIMEOUT_MS: '5',
    APQ_MAX_DOCUMENT_BYTES: 'big',
    REDIS_KEY_PREFIX: 'x'.repeat(101),
  });
  expect(problems).toHaveLength(6);
  expect(problems.join('\n')).toMatch(/IDEMPOTENCY_TTL_S[\s\S]*IDEMPOTENCY_MAX_KEYS[\s\S]*REDIS_KEY_PREFIX[\s\S]*REDIS_TIMEOUT_MS[\s\S]*APQ_MAX_DOCUMENT_BYTES/);
  expect(problems.join('\n')).toContain('REDIS_URL must be a redis:// or rediss:// URL');
  expect(problems.join('\n')).not.toContain('secret');
  // A record must outlive the in-flight mark: twice the queue wait, the deadline and the store's calls.
  expect(problemsOf({ IDEMPOTENCY_TTL_S: '60', UPSTREAM_TIMEOUT_MS: '30000' })).toEqual([
    'IDEMPOTENCY_TTL_S (60) must be at least 75: twice the longest an award can take from claim to settle ' +
      '(UPSTREAM_QUEUE_TIMEOUT_MS + UPSTREAM_TIMEOUT_MS + 2 × REDIS_TIMEOUT_MS + 1 s); raise IDEMPOTENCY_TTL_S or lower those',
  ]);
  // Issue 17, finding 4: an award queued 84 s then succeeded; its record (60 s) had expired under the retry.
  expect(problemsOf({ IDEMPOTENCY_TTL_S: '60', UPSTREAM_TIMEOUT_MS: '29000', UPSTREAM_QUEUE_TIMEOUT_MS: '120000', UPSTREAM_CONNECTIONS: '1' })).toEqual([
    expect.stringMatching(/^IDEMPOTENCY_TTL_S \(60\) must be at least 303: .*raise IDEMPOTENCY_TTL_S/),
  ]);
  expect(problemsOf({ IDEMPOTENCY_TTL_S: '303', UPSTREAM_TIMEOUT_MS: '29000', UPSTREAM_QUEUE_TIMEOUT_MS: '120000' })).toEqual([]);
  expect(problemsOf({ IDEMPOTENCY_TTL_S: '302', UPSTREAM_TIMEOUT_MS: '29000', UPSTREAM_QUEUE_TIMEOUT_MS: '120000' })).toHaveLength(1);
  // The mark the stores use and the start-up check are one function.
  expect(shortestRecordTtlS({ upstreamQueueTimeoutMs: 120_000, upstreamTimeoutMs: 29_000, redisTimeoutMs: 500 })).toBe(303);
  expect(claimToSettleMs({ upstreamQueueTimeoutMs: 120_000, upstreamTimeoutMs: 29_000, redisTimeoutMs: 500 })).toBe(151_000);
  // One token's share of the in-memory store: a tenth of it by default, never more than all of it.
  expect(loadConfig({ IDEMPOTENCY_MAX_KEYS: '50' }).idempotency.maxKeysPerToken).toBe(5);
  expect(loadConfig({ IDEMPOTENCY_MAX_KEYS: '5' }).idempotency.maxKeysPerToken).toBe(1);
  expect(loadConfig({ IDEMPOTENCY_MAX_KEYS_PER_TOKEN: '100000' }).idempotency.maxKeysPerToken).toBe(100_000);
  expect(problemsOf({ IDEMPOTENCY_MAX_KEYS: '10', IDEMPOTENCY_MAX_KEYS_PER_TOKEN: '11' })).toEqual([
    'IDEMPOTENCY_MAX_KEYS_PER_TOKEN (11) must not exceed IDEMPOTENCY_MAX_KEYS (10)',
  ]);
});

test('Redis topology: exactly one of REDIS_URL, REDIS_SENTINELS + REDIS_SENTINEL_NAME, REDIS_CLUSTER_NODES; any other combination one line; the password never in one', () => {
  const single = loadConfig({ REDIS_URL: 'rediss://:secret@cache:6380' }).idempotency;
  expect(single.redis).toEqual({ kind: 'single', url: new URL('rediss://:secret@cache:6380') });
  expect(single.redisUrl?.host).toBe('cache:6380');
  expect(loadConfig({ REDIS_SENTINELS: 'a:26379, b:26380,[::1]:26381', REDIS_SENTINEL_NAME: 'awards', REDIS_PASSWORD: 'secret', REDIS_TLS: 'true' }).idempotency).toMatchObject({
    redisUrl: null,
    redis: { kind: 'sentinel', sentinels: [{ host: 'a', port: 26379 }, { host: 'b', port: 26380 }, { host: '::1', port: 26381 }], name: 'awards', password: 'secret', tls: true },
  });
  expect(loadConfig({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001' }).idempotency.redis).toEqual({
    kind: 'cluster',
    nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }],
    password: null,
    tls: false,
  });
  const secret = 's3cr3t-pass';
  const cases: [Record<string, string>, string][] = [
    [{ REDIS_URL: 'redis://x:1', REDIS_CLUSTER_NODES: 'n1:7000', REDIS_PASSWORD: secret }, 'set only one of REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES, not REDIS_URL and REDIS_CLUSTER_NODES'],
    [{ REDIS_SENTINELS: 's:26379', REDIS_CLUSTER_NODES: 'n1:7000', REDIS_SENTINEL_NAME: 'm' }, 'set only one of REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES, not REDIS_SENTINELS and REDIS_CLUSTER_NODES'],
    [{ REDIS_SENTINELS: 's:26379', REDIS_PASSWORD: secret }, 'REDIS_SENTINELS and REDIS_SENTINEL_NAME (the master group) go together'],
    [{ REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS and REDIS_SENTINEL_NAME (the master group) go together'],
    [{ REDIS_URL: 'redis://x:1', REDIS_PASSWORD: secret }, 'REDIS_PASSWORD and REDIS_TLS apply to REDIS_SENTINELS or REDIS_CLUSTER_NODES only (a REDIS_URL carries its own: rediss://:password@host)'],
    [{ REDIS_PASSWORD: secret }, 'REDIS_PASSWORD and REDIS_TLS apply to REDIS_SENTINELS or REDIS_CLUSTER_NODES only (a REDIS_URL carries its own: rediss://:password@host)'],
    [{ REDIS_URL: 'redis://x:1', REDIS_TLS: 'true' }, 'REDIS_PASSWORD and REDIS_TLS apply to REDIS_SENTINELS or REDIS_CLUSTER_NODES only (a REDIS_URL carries its own: rediss://:password@host)'],
    [{ REDIS_CLUSTER_NODES: 'n1', REDIS_PASSWORD: secret }, 'REDIS_CLUSTER_NODES must be comma-separated host:port, got "n1"'],
    [{ REDIS_CLUSTER_NODES: 'n1:7000,', REDIS_PASSWORD: secret }, 'REDIS_CLUSTER_NODES must be comma-separated host:port, got "n1:7000,"'],
    [{ REDIS_SENTINELS: 's:99999', REDIS_SENTINEL_NAME: 'm', REDIS_PASSWORD: secret }, 'REDIS_SENTINELS must be comma-separated host:port, got "s:99999"'],
    [{ REDIS_CLUSTER_NODES: 'n1:7000', REDIS_TLS: 'yes', REDIS_PASSWORD: secret }, 'REDIS_TLS must be true or false, got "yes"'],
    [{ REDIS_URL: 'redis://x:1', REDIS_KEY_PREFIX: 'app{1}:' }, 'REDIS_KEY_PREFIX must be at most 100 printable ASCII characters without spaces or braces'],
  ];
  for (const [env, line] of cases) {
    expect(problemsOf(env)).toEqual([line]);
    expect(problemsOf(env).join('\n')).not.toContain(secret);
  }
});

test('HTTP server bounds: defaults, read from the environment, and checked against each other', () => {
  const answerDefaults = { responseTimeoutMs: 30_000, maxInflightResponseBytes: 64 * 1024 * 1024 };
  expect(loadConfig({}).http).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 1_000, maxInflightBodyBytes: 64 * 1024 * 1024, ...answerDefaults });
  expect(
    loadConfig({ HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '5000', MAX_CONNECTIONS: '50', MAX_INFLIGHT_BODY_BYTES: '2097152' }).http,
  ).toEqual({ headersTimeoutMs: 2000, requestTimeoutMs: 5000, maxConnections: 50, maxInflightBodyBytes: 2_097_152, ...answerDefaults });
  expect(problemsOf({ HEADERS_TIMEOUT_MS: '999', REQUEST_TIMEOUT_MS: '600001', MAX_CONNECTIONS: '0', MAX_INFLIGHT_BODY_BYTES: 'lots' })).toEqual([
    'HEADERS_TIMEOUT_MS must be a whole number from 1000 to 120000, got "999"',
    'REQUEST_TIMEOUT_MS must be a whole number from 1000 to 600000, got "600001"',
    'MAX_CONNECTIONS must be a whole number from 1 to 100000, got "0"',
    'MAX_INFLIGHT_BODY_BYTES must be a whole number from 1024 to 4294967296, got "lots"',
  ]);
  expect(problemsOf({ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000', MAX_INFLIGHT_BODY_BYTES: '4096' })).toEqual([
    'HEADERS_TIMEOUT_MS (20000) must not exceed REQUEST_TIMEOUT_MS (10000)',
    'MAX_INFLIGHT_BODY_BYTES (4096) must be at least MAX_REQUEST_BODY_BYTES (1048576)',
  ]);
});

test('answer bounds: GRAPHQL_MAX_COST, MAX_RESPONSE_BYTES, RESPONSE_TIMEOUT_MS, MAX_INFLIGHT_RESPONSE_BYTES', () => {
  expect(loadConfig({}).answers).toEqual({ maxCost: 25_000, maxResponseBytes: 2 * 1024 * 1024 });
  const set = loadConfig({ GRAPHQL_MAX_COST: '100', MAX_RESPONSE_BYTES: '4096', RESPONSE_TIMEOUT_MS: '500', MAX_INFLIGHT_RESPONSE_BYTES: '8192' });
  expect([set.answers, set.http.responseTimeoutMs, set.http.maxInflightResponseBytes]).toEqual([{ maxCost: 100, maxResponseBytes: 4096 }, 500, 8192]);
  expect(problemsOf({ GRAPHQL_MAX_COST: '0', RESPONSE_TIMEOUT_MS: '99' })).toEqual([
    'RESPONSE_TIMEOUT_MS must be a whole number from 100 to 600000, got "99"',
    'GRAPHQL_MAX_COST must be a whole number from 1 to 100000000, got "0"',
  ]);
  expect(problemsOf({ MAX_RESPONSE_BYTES: '1048576', MAX_INFLIGHT_RESPONSE_BYTES: '65536' })).toEqual([
    'MAX_INFLIGHT_RESPONSE_BYTES (65536) must be at least MAX_RESPONSE_BYTES (1048576)',
  ]);
});

test('ROUTER_SHARED_SECRET: none by default; a short one is refused without echoing it', () => {
  expect(loadConfig({}).federation).toEqual({ routerSharedSecret: null });
  expect(loadConfig({ ROUTER_SHARED_SECRET: 's3cret-of-sixteen+' }).federation).toEqual({ routerSharedSecret: 's3cret-of-sixteen+' });
  const problems = problemsOf({ ROUTER_SHARED_SECRET: 'short-one' });
  expect(problems).toEqual(['ROUTER_SHARED_SECRET must be at least 16 characters long']);
  expect(problems.join('')).not.toContain('short-one');
});

test('GRAPHIQL: on while developing, off in production unless set; a bad value is one problem', () => {
  expect(loadConfig({}).graphiql).toEqual({ enabled: true });
  expect(loadConfig({ NODE_ENV: 'production', UPSTREAM_URL: 'https://api.example.test' }).graphiql).toEqual({ enabled: false });
  expect(loadConfig({ NODE_ENV: 'production', UPSTREAM_URL: 'https://api.example.test', GRAPHIQL: 'true' }).graphiql).toEqual({ enabled: true });
  expect(loadConfig({ GRAPHIQL: 'false' }).graphiql).toEqual({ enabled: false });
  expect(problemsOf({ GRAPHIQL: 'yes' })).toEqual(['GRAPHIQL must be true or false, got "yes"']);
});

test('upstream protection: the defaults (breaker and read retries on; caller limit and cache off), and out-of-range values reported', () => {
  expect(loadConfig({}).upstreamProtection).toEqual({
    breaker: { failures: 20, windowMs: 10_000, openMs: 5_000 },
    readRetries: 2,
    callerRateLimit: 0,
    callerRateWindowSeconds: 60,
    callerRateLimitFailOpen: true,
    challengeCacheTtlSeconds: 0,
    challengeCacheMaxBytes: 32 * 1024 * 1024,
  });
  const problems = problemsOf({
    UPSTREAM_BREAKER_WINDOW_MS: '10',
    UPSTREAM_READ_RETRIES: '11',
    CALLER_RATE_WINDOW_S: '0',
    CALLER_RATE_LIMIT_FAIL_OPEN: 'maybe',
    CHALLENGE_CACHE_MAX_BYTES: '1',
  });
  expect(problems).toHaveLength(5);
  expect(problems.join('\n')).toMatch(/UPSTREAM_BREAKER_WINDOW_MS.*UPSTREAM_READ_RETRIES.*CALLER_RATE_WINDOW_S.*CALLER_RATE_LIMIT_FAIL_OPEN.*CHALLENGE_CACHE_MAX_BYTES/s);
});
