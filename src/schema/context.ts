// What every resolver receives. Built once per GraphQL operation in server.ts (an HTTP batch has
// several); nothing in it is shared between callers, because callers carry different tokens. What
// the operations of one HTTP request share is its UpstreamFanOut.

import type { ChallengeCache } from '../datasource/challenge-cache.js';
import { UpstreamFanOut } from '../datasource/fan-out.js';
import type { GatewayConfig } from '../app/config.js';
import type { AwardIdempotency } from '../datasource/api.js';
import type { RequestTelemetry } from '../telemetry/request-telemetry.js';
import { UpstreamApi } from '../datasource/api.js';
import type { UpstreamClient } from '../upstream/client.js';

export interface GatewayContext {
  /** The upstream, bound to this caller and to the request's fan-out limits: every upstream call goes through it. */
  api: UpstreamApi;
  config: GatewayConfig;
  /** This request's id, operation, outcome and upstream calls (logs, metrics, spans). */
  telemetry: RequestTelemetry;
  /** The HTTP request's call budget (operations reserve their calls from it before any runs). */
  fanOut: UpstreamFanOut;
  /** The request's Idempotency-Key header, when it carries one: the key of its one award. */
  idempotencyKeyHeader: IdempotencyKeyHeader | null;
}

/** An Idempotency-Key header as read: the key, or null when the header is not a key in either form. */
export interface IdempotencyKeyHeader {
  key: string | null;
}

/** What the request brings to its operations' contexts. */
export interface ContextSources {
  /** The caller's bearer token, or null when the request carries no usable one. */
  token: string | null;
  upstream: UpstreamClient;
  config: GatewayConfig;
  telemetry: RequestTelemetry;
  /** Shared by every request of the gateway. */
  idempotency: AwardIdempotency;
  /** The raw Idempotency-Key header; absent or null when the request has none. */
  idempotencyKeyHeader?: string | null;
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
export function createContext({
  token,
  upstream,
  config,
  telemetry,
  idempotency,
  idempotencyKeyHeader = null,
  challengeCache,
}: ContextSources): GatewayContext {
  const fanOut = fanOutOf(telemetry, config);
  const caller = { token, headers: telemetry.upstreamHeaders, recorder: telemetry };
  return {
    api: new UpstreamApi({ client: upstream, caller, fanOut, idempotency, challengeCache }),
    config,
    telemetry,
    fanOut,
    idempotencyKeyHeader: readIdempotencyKeyHeader(idempotencyKeyHeader),
  };
}

// An sf-string (RFC 8941): printable ASCII in double quotes, `"` and `\` escaped with a backslash.
const SF_STRING = /^"((?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\["\\])*)"$/;

/**
 * The Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header): a quoted sf-string, as
 * the draft sends it, or the bare key, as much retry middleware does. Its key then obeys the rules
 * of input.idempotencyKey (checked where the award runs).
 */
export function readIdempotencyKeyHeader(value: string | null): IdempotencyKeyHeader | null {
  if (value === null) return null;
  if (!value.startsWith('"')) return { key: value };
  const quoted = SF_STRING.exec(value);
  return { key: quoted ? quoted[1]!.replace(/\\(["\\])/g, '$1') : null };
}

// The awards each HTTP request answered (both paths: one RequestTelemetry per request), for Idempotent-Replayed.
const awardsAnswered = new WeakMap<RequestTelemetry, { awards: number; replays: number }>();

/** An award of the request was answered: a replayed success, or anything else. */
export function noteAwardAnswered(telemetry: RequestTelemetry, replayed: boolean): void {
  const tally = awardsAnswered.get(telemetry) ?? { awards: 0, replays: 0 };
  tally.awards += 1;
  if (replayed) tally.replays += 1;
  awardsAnswered.set(telemetry, tally);
}

/** Whether the request answered awards and every one was the replay of a recorded success. */
export function answeredOnlyReplays(telemetry: RequestTelemetry): boolean {
  const tally = awardsAnswered.get(telemetry);
  return tally !== undefined && tally.awards === tally.replays;
}

/** `Bearer <token>` (scheme case-insensitive, per RFC 9110); anything else is no token. */
export function readBearerToken(authorization: string | null): string | null {
  if (!authorization) return null;
  const match = /^Bearer[ \t]+([^\s].*?)[ \t]*$/i.exec(authorization);
  return match?.[1] ?? null;
}
