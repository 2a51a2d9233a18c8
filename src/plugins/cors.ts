// plugins/: Yoga plugins, one cross-cutting concern each; the gateway's assembly (app/gateway.ts) lists them in order.
//
// Cross-origin callers: the origins CORS_ORIGINS lists and, in the sandbox, any page served from
// this machine (a Vite or webpack dev server on http://localhost:5173 and the like), so a frontend
// developer's first call works with no setting. Yoga's CORS handling, configured here.

import type { YogaServerOptions } from 'graphql-yoga';

/** A page served from this machine over http, on any port: what a dev server is. */
const LOOPBACK_ORIGIN = /^http:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/;

/**
 * The request headers a cross-origin page may send: what Apollo Client, urql and GraphiQL send,
 * the CSRF preflight headers, trace context, a request id, and the idempotency key of an award.
 */
export const CORS_ALLOWED_HEADERS = [
  'accept',
  'authorization',
  'content-type',
  'idempotency-key',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollographql-client-name',
  'apollographql-client-version',
  'traceparent',
  'tracestate',
  'x-request-id',
];

/** The answer headers a cross-origin page may read: the request id, and whether an award was a replay. */
export const CORS_EXPOSED_HEADERS = ['x-request-id', 'idempotent-replayed'];

export function isLoopbackOrigin(origin: string): boolean {
  return LOOPBACK_ORIGIN.test(origin);
}

/**
 * Yoga's `cors` option: off when no origin may call (neither listed origins nor loopback ones),
 * else a per-request decision that answers CORS headers to allowed origins only.
 */
export function corsOptions(origins: readonly string[], { loopback = false } = {}): YogaServerOptions<object, object>['cors'] {
  if (origins.length === 0 && !loopback) return false;
  const listed = new Set(origins);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (origin === null || !(listed.has(origin) || (loopback && isLoopbackOrigin(origin)))) return false;
    return {
      // Listed twice so Yoga answers `Vary: Origin`: the answer depends on who asked.
      origin: [origin, origin],
      methods: ['GET', 'POST'],
      allowedHeaders: CORS_ALLOWED_HEADERS,
      exposedHeaders: CORS_EXPOSED_HEADERS,
      maxAge: 600,
    };
  };
}

/** Whether CORS handling may shape the answer: a request with an Origin (the fast lane leaves those to Yoga). */
export function isCorsRequest(origin: string | undefined): boolean {
  return origin !== undefined;
}
