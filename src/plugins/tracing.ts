// OpenTelemetry spans for each request (SERVER) and its upstream calls (CLIENT, started by
// RequestTelemetry.upstreamCall). In the observer list (app/gateway.ts) only when spans are exported.

import { SpanStatusCode } from '@opentelemetry/api';
import { boundText } from '../telemetry/logging.js';
import type { RequestObserver } from '../telemetry/observers.js';
import type { RequestTelemetry } from '../telemetry/request-telemetry.js';
import type { Tracing } from '../telemetry/tracing.js';

export function requestSpans(tracing: Tracing): RequestObserver {
  return {
    onStart(telemetry, { method, headers }) {
      telemetry.tracing = tracing;
      telemetry.span = tracing.startRequestSpan(method, headers);
    },
    onEnd: (telemetry, { status }) => endRequestSpan(telemetry, status),
  };
}

/** Names the request's span after its operation, records the outcome and ends it. */
function endRequestSpan(telemetry: RequestTelemetry, status: number): void {
  const span = telemetry.span;
  if (!span) return;
  // The client's operation name, bounded as in the log line: spans leave the gateway too.
  const operationName = telemetry.operationName ? boundText(telemetry.operationName) : null;
  if (telemetry.operationType) {
    span.updateName(`${telemetry.operationType} ${operationName ?? telemetry.rootFields}`);
    span.setAttribute('graphql.operation.type', telemetry.operationType);
  }
  if (operationName) span.setAttribute('graphql.operation.name', operationName);
  if (telemetry.resultType) span.setAttribute('graphql.result.type', telemetry.resultType);
  if (telemetry.errorCode) {
    span.setAttribute('graphql.error.code', telemetry.errorCode);
    span.setStatus({ code: SpanStatusCode.ERROR, message: telemetry.errorCode });
  }
  span.setAttribute('http.request.id', telemetry.id);
  span.setAttribute('http.response.status_code', status);
  span.end();
}
