// Reads and validates the environment once, at start-up. Every problem is reported
// (one line each) rather than only the first, so a bad deployment is fixed in one pass.

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
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const NODE_ENVS: readonly NodeEnv[] = ['development', 'production', 'test'];

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
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}
