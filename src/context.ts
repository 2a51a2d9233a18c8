// What every resolver receives. Built once per GraphQL operation in server.ts (an HTTP batch has
// several); nothing in it is shared between callers, because callers carry different tokens. What
// the operations of one HTTP request share is its UpstreamFanOut.

import { UpstreamFanOut } from './concurrency.js';
import type { GatewayConfig } from './config.js';
import type { Idempotency } from './idempotency/index.js';
import { createChallengeLoader } from './loaders/challenge-loader.js';
import type { ChallengeLoader } from './loaders/challenge-loader.js';
import type { RequestTelemetry } from './telemetry/request-telemetry.js';
import type { UpstreamClient } from './upstream/client.js';
import type { UpstreamCallOptions } from './upstream/types.js';

export interface GatewayContext {
  /** The caller's bearer token, or null when the request carries no usable one. */
  token: string | null;
  upstream: UpstreamClient;
  config: GatewayConfig;
  /** This request's id, operation, outcome and upstream calls (logs, metrics, spans); its upstreamHeaders go with every upstream call. */
  telemetry: RequestTelemetry;
  /** Every challenge read of this request goes through it; null without a token (nothing may be read). */
  challengeLoader: ChallengeLoader | null;
  /** The HTTP request's call budget, concurrency limit and token-refusal stop: every upstream call goes through it. */
  fanOut: UpstreamFanOut;
  /** Runs keyed awards at most once per idempotency key (shared by every request of the gateway). */
  idempotency: Idempotency;
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

/** The context of one GraphQL operation: what the request brings, plus its own loaders. */
export function createContext(base: Omit<GatewayContext, 'challengeLoader' | 'fanOut'>): GatewayContext {
  const { token, upstream, config, telemetry } = base;
  const fanOut = fanOutOf(telemetry, config);
  return {
    ...base,
    fanOut,
    challengeLoader:
      token === null ? null : createChallengeLoader({ upstream, call: upstreamCall(base, token), limit: (get) => fanOut.get(get) }),
  };
}

/** `Bearer <token>` (scheme case-insensitive, per RFC 9110); anything else is no token. */
export function readBearerToken(authorization: string | null): string | null {
  if (!authorization) return null;
  const match = /^Bearer[ \t]+([^\s].*?)[ \t]*$/i.exec(authorization);
  return match?.[1] ?? null;
}

export function upstreamCall(ctx: Pick<GatewayContext, 'telemetry'>, token: string): UpstreamCallOptions {
  return { token, headers: ctx.telemetry.upstreamHeaders, recorder: ctx.telemetry };
}
