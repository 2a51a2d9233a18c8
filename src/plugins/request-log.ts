// One JSON log line per HTTP request: what was asked (operation), what came of it (status,
// result type or error code), the upstream calls it made, and the request id that ties it to
// the upstream's logs, also returned to the client as x-request-id. Facts only, never headers,
// so the bearer token cannot reach a log line.

import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logging.js';
import { seenTelemetryOf } from '../telemetry/request-telemetry.js';
import type { RequestTelemetry } from '../telemetry/request-telemetry.js';

const round = (ms: number) => Math.round(ms * 100) / 100;

export function useRequestLog(logger: Logger): Plugin {
  return {
    onResponse({ request, response }) {
      const telemetry = seenTelemetryOf(request);
      if (!telemetry) return;
      response.headers.set('x-request-id', telemetry.id);
      logRequest(logger, telemetry, request.method, pathOf(request.url), response.status);
    },
  };
}

/** The request's log line (the fast lane, fast-lane.ts, writes it through here too). */
export function logRequest(logger: Logger, t: RequestTelemetry, method: string, path: string, status: number): void {
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
  });
}

/** The path of an absolute URL, without parsing all of it. */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const end = url.indexOf('?', start);
  return start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end);
}
