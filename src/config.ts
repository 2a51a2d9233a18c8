// Reads and validates the environment once, at start-up. Every problem is reported
// (one line each) rather than only the first, so a bad deployment is fixed in one pass.

import { readFileSync } from 'node:fs';
import type { LogLevel } from './logging.js';

export type NodeEnv = 'development' | 'production' | 'test';

export interface GatewayConfig {
  nodeEnv: NodeEnv;
  /** Base URL of the upstream API including its path prefix (e.g. https://host/api/v2); null = sandbox. */
  upstreamUrl: URL | null;
  host: string;
  port: number;
  upstreamTimeoutMs: number;
  /** Largest upstream response body read; beyond it the answer is BAD_UPSTREAM_RESPONSE. */
  upstreamMaxResponseBytes: number;
  /** Keep-alive connections the gateway holds open to the upstream origin. */
  upstreamConnections: number;
  /** Most challenge GETs one request's loader runs at once. */
  challengeLoadConcurrency: number;
  /** Most upstream POSTs one addChallengeHistories request runs at once. */
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
  /** Bounds on what one HTTP request may ask (README "Security settings"). */
  limits: RequestLimits;
  /** How long SIGTERM waits for in-flight requests before closing their connections. */
  shutdownDrainMs: number;
  /** Origins allowed to call cross-origin (CORS); empty = none. */
  corsOrigins: string[];
  /** Schema introspection; off by default in production. */
  introspection: boolean;
  /** "Did you mean ...?" suggestions in validation errors; off by default in production. */
  fieldSuggestions: boolean;
  /** The GraphiQL page the gateway serves itself (src/graphiql). */
  graphiql: GraphiQLSettings;
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

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
      return fallback;
    }
    return value as T;
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
  const config: GatewayConfig = {
    nodeEnv,
    upstreamUrl: read.httpUrl('UPSTREAM_URL'),
    // Loopback unless deployed: a laptop's sandbox should not be reachable from the network.
    host: read.raw('HOST') ?? (nodeEnv === 'production' ? '0.0.0.0' : '127.0.0.1'),
    port: read.integer('PORT', 4000, { max: 65535 }),
    upstreamTimeoutMs: read.integer('UPSTREAM_TIMEOUT_MS', 10_000, { min: 1, max: 600_000 }),
    upstreamMaxResponseBytes: read.integer('UPSTREAM_MAX_RESPONSE_BYTES', 5 * 1024 * 1024, { min: 1024 }),
    upstreamConnections: read.integer('UPSTREAM_CONNECTIONS', 64, { min: 1, max: 10_000 }),
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
    graphiql: { enabled: read.boolean('GRAPHIQL', nodeEnv !== 'production') },
  };
  if (nodeEnv === 'production' && !config.upstreamUrl && read.raw('UPSTREAM_URL') === undefined) {
    read.problems.push('UPSTREAM_URL is required when NODE_ENV=production (without it the gateway would serve the in-memory sandbox).');
  }
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}
