// Starts the real gateway in-process on an ephemeral loopback port, with its logs captured.

import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import type { GatewayConfig } from '../../src/app/config.js';
import { createLogger } from '../../src/telemetry/logging.js';
import { createGateway } from '../../src/app/gateway.js';
import type { Gateway, GatewayOptions } from '../../src/app/gateway.js';

export interface TestGateway {
  /** http://127.0.0.1:PORT/graphql */
  url: URL;
  config: GatewayConfig;
  gateway: Gateway;
  /** Every log line the gateway wrote, raw. */
  logs: string[];
  /** POSTs a GraphQL request; `token: null` sends no Authorization header. */
  graphql(request: GraphQLRequest, options?: { token?: string | null; headers?: Record<string, string> }): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

export interface GraphQLRequest {
  /** Absent when a persisted operation is sent by hash (extensions.persistedQuery). */
  query?: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  extensions?: Record<string, unknown>;
}

export interface GraphQLResponse {
  status: number;
  headers: Headers;
  body: any;
}

export const TEST_TOKEN = 'test-token-5f1c2d9e8b7a';

export async function startGateway({
  upstreamUrl,
  env = {},
  exampleToken,
  options = {},
}: {
  upstreamUrl: URL | string;
  env?: Record<string, string>;
  /** The token GraphiQL's header editor starts with, as main.ts passes the sandbox's. */
  exampleToken?: string;
  /** More createGateway options (loopbackHostsOnly, plugins). */
  options?: Omit<GatewayOptions, 'logger' | 'exampleToken'>;
}): Promise<TestGateway> {
  const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', UPSTREAM_URL: String(upstreamUrl), ...env });
  const logs: string[] = [];
  const gateway = createGateway(config, {
    logger: createLogger({ level: 'debug', write: (line) => logs.push(line) }),
    exampleToken,
    ...options,
  });
  const url = await gateway.listen();
  return {
    url,
    config,
    gateway,
    logs,
    graphql: (request, options = {}) => postGraphQL(url, request, options),
    close: () => gateway.close(),
  };
}

export async function postGraphQL(
  url: URL,
  request: GraphQLRequest,
  { token = TEST_TOKEN, headers = {} }: { token?: string | null; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: JSON.stringify(request),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

/**
 * The suite's usual set-up: a beforeAll starts the upstream and a gateway in front of it, an
 * afterAll (registered where this is called, so hooks keep their order) stops both. `upstream`
 * and `gw` can be destructured at the top of a file and used as the objects themselves once
 * the beforeAll has run; a read before that throws.
 */
export function useGatewayOn<U extends { url: URL; close(): Promise<void> }>(
  startUpstream: () => Promise<U>,
  env: Record<string, string> = {},
): { upstream: U; gw: TestGateway } {
  let upstream: U | undefined;
  let gw: TestGateway | undefined;
  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startGateway({ upstreamUrl: upstream.url, env });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });
  return { upstream: startedLater(() => upstream, 'upstream'), gw: startedLater(() => gw, 'gw') };
}

/** Stands for an object a beforeAll creates: every property access goes to it (methods bound to it). */
function startedLater<T extends object>(current: () => T | undefined, name: string): T {
  const started = (): T => {
    const target = current();
    if (target === undefined) throw new Error(`${name} is used before the beforeAll that starts it has run`);
    return target;
  };
  return new Proxy({} as T, {
    get(_, key) {
      const target = started();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set: (_, key, value) => Reflect.set(started(), key, value),
    has: (_, key) => Reflect.has(started(), key),
  });
}
