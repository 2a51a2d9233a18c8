// Starts the real gateway in-process on an ephemeral loopback port, with its logs captured.

import { loadConfig } from '../../src/config.js';
import type { GatewayConfig } from '../../src/config.js';
import { createLogger } from '../../src/logging.js';
import { createGateway } from '../../src/server.js';
import type { Gateway, GatewayOptions } from '../../src/server.js';

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

/** Starts an upstream (the sandbox or the scriptable one) and a gateway in front of it; `close` stops both. */
export async function startGatewayOn<U extends { url: URL; close(): Promise<void> }>(
  upstreamStarting: Promise<U>,
  env: Record<string, string> = {},
): Promise<{ upstream: U; gw: TestGateway; close(): Promise<void> }> {
  const upstream = await upstreamStarting;
  const gw = await startGateway({ upstreamUrl: upstream.url, env });
  return {
    upstream,
    gw,
    close: async () => {
      await gw.close();
      await upstream.close();
    },
  };
}
