// What every resolver receives. Built once per GraphQL request in server.ts; nothing in it
// is shared between callers, because callers carry different tokens.

import type { GatewayConfig } from './config.js';
import type { RequestTelemetry } from './telemetry/request-telemetry.js';
import type { UpstreamClient } from './upstream/client.js';
import type { UpstreamCallOptions } from './upstream/types.js';

export interface GatewayContext {
  /** The caller's bearer token, or null when the request carries no usable one. */
  token: string | null;
  upstream: UpstreamClient;
  config: GatewayConfig;
  /** Correlation headers forwarded with every upstream call of this request. */
  upstreamHeaders: Record<string, string>;
  /** This request's id, operation, outcome and upstream calls (logs, metrics, spans). */
  telemetry: RequestTelemetry;
}

/** `Bearer <token>` (scheme case-insensitive, per RFC 9110); anything else is no token. */
export function readBearerToken(authorization: string | null): string | null {
  if (!authorization) return null;
  const match = /^Bearer[ \t]+([^\s].*?)[ \t]*$/i.exec(authorization);
  return match?.[1] ?? null;
}

export function upstreamCall(ctx: GatewayContext, token: string): UpstreamCallOptions {
  return ctx.telemetry.upstreamCall(token);
}
