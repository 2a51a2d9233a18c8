// What one HTTP request to the gateway did, gathered once and read by the log line, the metrics
// and the span: its id, operation, outcome and upstream calls. One object per request; the
// upstream client tells it of each call's start and end (UpstreamCallRecorder).

import { randomUUID } from 'node:crypto';
import type { Span } from '@opentelemetry/api';
import { endUpstreamSpan, incomingTraceHeaders } from './tracing.js';
import type { HeaderReader, Tracing } from './tracing.js';
import type { UpstreamResponseInfo } from '../upstream/types.js';
import type { UpstreamCallObserver, UpstreamCallRecorder } from '../upstream/types.js';

const SANE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

export class RequestTelemetry implements UpstreamCallRecorder, UpstreamCallObserver {
  readonly started = performance.now();
  /** Taken from a sane incoming x-request-id, made otherwise; sent upstream and returned to the client. */
  readonly id: string;
  /** Sent with every upstream call of this request: x-request-id and the incoming trace context. */
  readonly upstreamHeaders: Record<string, string>;
  operationName: string | null = null;
  operationType: string | null = null;
  /** The root fields selected, directly or through fragments (names, not aliases): a label bounded by the schema. */
  rootFields: string | null = null;
  /** __typename of the first root field's result, when the operation selected it (union results). */
  resultType: string | null = null;
  /** extensions.code of the first error. */
  errorCode: string | null = null;
  upstreamCalls = 0;
  /** Status of the last upstream call; null when it got no answer. */
  upstreamStatus: number | null = null;
  upstreamDurationMs = 0;
  /** Why the last failed upstream call failed (UpstreamResponseInfo.failure); null when none failed. */
  upstreamFailure: string | null = null;
  /** The request's span, when spans are exported. */
  span: Span | null = null;
  tracing: Tracing | null = null;

  constructor(headers: HeaderReader) {
    const incoming = headers.get('x-request-id');
    this.id = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    this.upstreamHeaders = { 'x-request-id': this.id, ...incomingTraceHeaders(headers) };
  }

  /** One upstream call of this request begins: with spans exported, it gets its own CLIENT span. */
  upstreamCallStarted(): UpstreamCallObserver {
    if (!this.tracing || !this.span) return this;
    const { span, headers } = this.tracing.startUpstreamSpan(this.span);
    return new UpstreamSpanObserver(this, span, headers);
  }

  upstreamResponded(info: UpstreamResponseInfo): void {
    this.upstreamCalls += 1;
    this.upstreamStatus = info.status;
    this.upstreamDurationMs += info.durationMs;
    if (info.failure !== null) this.upstreamFailure = info.failure;
  }

  /** A GraphQL result was produced: the request counts in the GraphQL metrics. */
  get isGraphQL(): boolean {
    return this.rootFields !== null || this.errorCode !== null;
  }
}

class UpstreamSpanObserver implements UpstreamCallObserver {
  constructor(
    private readonly request: RequestTelemetry,
    private readonly span: Span,
    readonly callHeaders: Record<string, string>,
  ) {}

  upstreamResponded(info: UpstreamResponseInfo): void {
    this.request.upstreamResponded(info);
    endUpstreamSpan(this.span, info);
  }
}

const byRequest = new WeakMap<Request, RequestTelemetry>();

/** The request's telemetry, made on first use (the first plugin's onRequest, or the context factory). */
export function telemetryOf(request: Request): RequestTelemetry {
  let telemetry = byRequest.get(request);
  if (!telemetry) {
    telemetry = new RequestTelemetry(request.headers);
    byRequest.set(request, telemetry);
  }
  return telemetry;
}

/** The telemetry of a request seen earlier, without making one. */
export function seenTelemetryOf(request: Request): RequestTelemetry | undefined {
  return byRequest.get(request);
}
