// An upstream endpoint, described once: method, route template, body encoder, decoder and what a
// 404 means. The client runs any descriptor through one send path (client.ts `call`), so the
// route template is also the metrics label, span name and log field of every call to it.

import { parseUpstreamId } from './ids.js';

/** The names in a route template: '/a/{id}/b/{other}' -> 'id' | 'other'. */
export type RouteParamName<Route extends string> = Route extends `${string}{${infer Name}}${infer Rest}`
  ? Name | RouteParamName<Rest>
  : never;

/** The route's parameters, each a positive int32 (refused otherwise: no other text reaches a URL path). */
export type RouteParams<Route extends string> = { readonly [Name in RouteParamName<Route>]: number };

export interface Endpoint<Route extends string, Input, Result> {
  method: 'GET' | 'POST';
  route: Route;
  /** The JSON body sent; none for a read. */
  encode?: (input: Input) => unknown;
  /** The record of a 2xx body, or null when the body is not one (BAD_UPSTREAM_RESPONSE). */
  decode: (body: unknown, params: RouteParams<Route>, input: Input) => Result | null;
  /** What a 2xx body that does not decode was expected to be, for the error's detail. */
  record: string;
  /** What a 404 means: the answer (null for a read of an id the upstream does not know), or a typed error thrown. */
  notFound: (params: RouteParams<Route>) => Result;
}

/** Any descriptor, for code that only routes and sends. */
export type AnyEndpoint = Endpoint<string, never, unknown>;

/** The concrete path: every `{name}` replaced by its parameter, which must be a positive int32. */
export function expandRoute<Route extends string>(route: Route, params: RouteParams<Route>): string {
  return route.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = (params as Record<string, unknown>)[name];
    const id = typeof value === 'number' ? parseUpstreamId(value) : null;
    if (id === null) throw new RangeError(`route parameter ${name} of ${route} must be a positive int32, got ${String(value)}`);
    return String(id);
  });
}
