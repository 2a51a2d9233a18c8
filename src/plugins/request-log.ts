// One JSON log line per HTTP request: what was asked (operation), what came of it (status,
// result type or error code), the upstream calls it made, and the request id that ties it to
// the upstream's logs, also returned to the client as x-request-id. Facts only, never headers,
// so the bearer token cannot reach a log line.

import type { Logger } from '../telemetry/logging.js';
import type { RequestObserver } from '../telemetry/observers.js';
import type { RequestTelemetry } from '../telemetry/request-telemetry.js';

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Returns the request id to the client as x-request-id. */
export const requestIdHeader: RequestObserver = {
  onEnd: (telemetry, { setHeader }) => setHeader('x-request-id', telemetry.id),
};

export function requestLog(logger: Logger): RequestObserver {
  return { onEnd: (telemetry, { method, path, status }) => logRequest(logger, telemetry, method, path, status) };
}

/** The request's log line. */
function logRequest(logger: Logger, t: RequestTelemetry, method: string, path: string, status: number): void {
  logger.info('request', {
    requestId: t.id,
    traceId: t.span?.spanContext().traceId ?? t.upstreamHeaders.traceparent?.slice(3, 35) ?? null,
    method,
    path,
    status,
    operationName: t.operationName,
    operationType: t.operationType,
    rootFields: t.rootFields,
    resultType: t.resultType,
    errorCode: t.errorCode,
    durationMs: round(performance.now() - t.started),
    upstreamCalls: t.upstreamCalls,
    upstreamStatus: t.upstreamCalls > 0 ? t.upstreamStatus : null,
    upstreamDurationMs: t.upstreamCalls > 0 ? round(t.upstreamDurationMs) : null,
    // The cause (refused, reset, dns, tls, timeout) or status and a bounded body excerpt.
    upstreamFailure: t.upstreamFailure,
  });
}
