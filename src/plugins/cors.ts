// Cross-origin callers: none unless CORS_ORIGINS lists them (Yoga's CORS handling, configured here).

import type { YogaServerOptions } from 'graphql-yoga';

/** Yoga's `cors` option: off without listed origins (an empty list would mean "any" to Yoga). */
export function corsOptions(origins: readonly string[]): YogaServerOptions<object, object>['cors'] {
  return origins.length > 0 ? { origin: [...origins], methods: ['GET', 'POST'] } : false;
}

/** Whether CORS handling may shape the answer: a request with an Origin (the fast lane leaves those to Yoga). */
export function isCorsRequest(origin: string | undefined): boolean {
  return origin !== undefined;
}
