// OpenTelemetry spans for each request (SERVER) and its upstream calls (CLIENT, started by
// RequestTelemetry.upstreamCall). In the plugin list only when spans are exported. The fast
// lane (fast-lane.ts) calls the same two functions.

import { SpanStatusCode } from '@opentelemetry/api';
import type { Plugin } from 'graphql-yoga';
import { seenTelemetryOf } from '../telemetry/request-telemetry.js';
import type { RequestTelemetry } from '../telemetry/request-telemetry.js';
import type { HeaderReader, Tracing } from '../telemetry/tracing.js';

export function useTracing(tracing: Tracing): Plugin {
  return {
    onRequest({ request }) {
      const telemetry = seenTelemetryOf(request);
      if (telemetry) startRequestSpan(tracing, telemetry, request.method, request.headers);
    },
    onResponse({ request, response }) {
      const telemetry = seenTelemetryOf(request);
      if (telemetry) endRequestSpan(telemetry, response.status);
    },
  };
}

export function startRequestSpan(tracing: Tracing, telemetry: RequestTelemetry, method: string, headers: HeaderReader): void {
  telemetry.tracing = tracing;
  telemetry.span = tracing.startRequestSpan(method, headers);
}

/** Names the request's span after its operation, records the outcome and ends it. */
export function endRequestSpan(telemetry: RequestTelemetry, status: number): void {
  const span = telemetry.span;
  if (!span) return;
  if (telemetry.operationType) {
    span.updateName(`${telemetry.operationType} ${telemetry.operationName ?? telemetry.rootFields}`);
    span.setAttribute('graphql.operation.type', telemetry.operationType);
  }
  if (telemetry.operationName) span.setAttribute('graphql.operation.name', telemetry.operationName);
  if (telemetry.resultType) span.setAttribute('graphql.result.type', telemetry.resultType);
  if (telemetry.errorCode) {
    span.setAttribute('graphql.error.code', telemetry.errorCode);
    span.setStatus({ code: SpanStatusCode.ERROR, message: telemetry.errorCode });
  }
  span.setAttribute('http.request.id', telemetry.id);
  span.setAttribute('http.response.status_code', status);
  span.end();
}
