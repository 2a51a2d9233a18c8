// What every resolver receives. Built once per GraphQL operation in server.ts (an HTTP batch has
// several); nothing in it is shared between callers, because callers carry different tokens. What
// the operations of one HTTP request share is its UpstreamFanOut.

import type { ChallengeCache } from './cache/challenge-cache.js';
import { UpstreamFanOut } from './concurrency.js';
import type { GatewayConfig } from './config.js';
import type { Idempotency } from './idempotency/index.js';
import type { RequestTelemetry } from './telemetry/request-telemetry.js';
import { UpstreamApi } from './upstream/api.js';
import type { UpstreamClient } from './upstream/client.js';

export interface GatewayContext {
  /** The upstream, bound to this caller and to the request's fan-out limits: every upstream call goes through it. */
  api: UpstreamApi;
  config: GatewayConfig;
  /** This request's id, operation, outcome and upstream calls (logs, metrics, spans). */
  telemetry: RequestTelemetry;
  /** The HTTP request's call budget (operations reserve their calls from it before any runs). */
  fanOut: UpstreamFanOut;
}

/** What the request brings to its operations' contexts. */
export interface ContextSources {
  /** The caller's bearer token, or null when the request carries no usable one. */
  token: string | null;
  upstream: UpstreamClient;
  config: GatewayConfig;
  telemetry: RequestTelemetry;
  /** Shared by every request of the gateway. */
  idempotency: Idempotency;
  /** Shared by every request, keyed per caller inside; null when off. */
  challengeCache?: ChallengeCache | null;
}

// One RequestTelemetry per HTTP request on both paths (Yoga's keyed by its Request, the fast
// lane's made per request), so it keys what all operations of that request share.
const fanOuts = new WeakMap<RequestTelemetry, UpstreamFanOut>();

function fanOutOf(telemetry: RequestTelemetry, config: GatewayConfig): UpstreamFanOut {
  let fanOut = fanOuts.get(telemetry);
  if (!fanOut) {
    fanOut = new UpstreamFanOut({
      maxCalls: config.upstreamBudget.maxCallsPerRequest,
      postConcurrency: config.batchConcurrency,
      getConcurrency: config.challengeLoadConcurrency,
    });
    fanOuts.set(telemetry, fanOut);
  }
  return fanOut;
}

/** The context of one GraphQL operation: its own API (and so its own loaders) over the request's fan-out. */
export function createContext({ token, upstream, config, telemetry, idempotency, challengeCache }: ContextSources): GatewayContext {
  const fanOut = fanOutOf(telemetry, config);
  const caller = { token, headers: telemetry.upstreamHeaders, recorder: telemetry };
  return { api: new UpstreamApi({ client: upstream, caller, fanOut, idempotency, challengeCache }), config, telemetry, fanOut };
}

/** `Bearer <token>` (scheme case-insensitive, per RFC 9110); anything else is no token. */
export function readBearerToken(authorization: string | null): string | null {
  if (!authorization) return null;
  const match = /^Bearer[ \t]+([^\s].*?)[ \t]*$/i.exec(authorization);
  return match?.[1] ?? null;
}
