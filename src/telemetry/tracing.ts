// W3C trace context and OpenTelemetry spans. Propagating an incoming traceparent to the upstream
// costs one header check per request and is always on; spans exist only when an OTLP endpoint is
// configured. Contexts are passed explicitly (no global provider or context manager), so two
// gateways in one process never share a tracer.

import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Span, TextMapGetter, TextMapPropagator, Tracer } from '@opentelemetry/api';
import type * as OtelCore from '@opentelemetry/core';
import type * as OtlpExporter from '@opentelemetry/exporter-trace-otlp-http';
import type * as OtelResources from '@opentelemetry/resources';
import type * as OtelSdk from '@opentelemetry/sdk-trace-base';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { GatewayConfig } from '../app/config.js';
import type { UpstreamResponseInfo } from '../upstream/types.js';

// Version 00 only, and neither id all zeros (both invalid per W3C Trace Context).
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_TRACESTATE = 512;

/** Read access to request headers: a Fetch API `Headers`, or a node request's (nodeHeaders). */
export interface HeaderReader {
  get(name: string): string | null;
  keys(): Iterable<string>;
}

/** A node request's headers as a HeaderReader (repeated values joined as Fetch's Headers joins them). */
export function nodeHeaders(headers: IncomingHttpHeaders): HeaderReader {
  return {
    get: (name) => {
      const value = headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
    keys: () => Object.keys(headers),
  };
}

/** The incoming trace context, forwarded unchanged when the gateway makes no spans; {} when absent or invalid. */
export function incomingTraceHeaders(headers: HeaderReader): Record<string, string> {
  const traceparent = headers.get('traceparent');
  if (traceparent === null || !TRACEPARENT.test(traceparent)) return {};
  const tracestate = headers.get('tracestate');
  return tracestate && tracestate.length <= MAX_TRACESTATE ? { traceparent, tracestate } : { traceparent };
}

const headersGetter: TextMapGetter<HeaderReader> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

// The SDK, the exporter and their dependencies are loaded only when spans are exported: about
// 0.3 s and 15 MiB at start-up otherwise (docs/performance.md). These packages are CommonJS under
// Node (no "exports" map), so require() loads the very modules an import would, synchronously.
const require = createRequire(import.meta.url);

export class Tracing {
  private readonly tracer: Tracer;

  constructor(
    private readonly provider: BasicTracerProvider,
    serviceName: string,
    private readonly propagator: TextMapPropagator = new (require('@opentelemetry/core') as typeof OtelCore).W3CTraceContextPropagator(),
  ) {
    this.tracer = provider.getTracer(serviceName);
  }

  /** Spans exported over OTLP/HTTP to config.otlpEndpoint; null when it is not set. */
  static fromConfig(config: GatewayConfig): Tracing | null {
    if (!config.otlpEndpoint) return null;
    const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof OtelSdk;
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpExporter;
    const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof OtelResources;
    const base = config.otlpEndpoint.href.replace(/\/+$/, '');
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.serviceName }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))],
    });
    return new Tracing(provider, config.serviceName);
  }

  /** The SERVER span of one HTTP request, child of the caller's traceparent when it sent one. */
  startRequestSpan(method: string, headers: HeaderReader): Span {
    const parent = this.propagator.extract(ROOT_CONTEXT, headers, headersGetter);
    return this.tracer.startSpan(`${method} /graphql`, { kind: SpanKind.SERVER }, parent);
  }

  /** A CLIENT span for one upstream call, and the traceparent/tracestate that make the upstream its child. */
  startUpstreamSpan(parent: Span): { span: Span; headers: Record<string, string> } {
    const span = this.tracer.startSpan('upstream', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, parent));
    const carrier: Record<string, string> = {};
    this.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, { set: (c, key, value) => (c[key] = value) });
    return { span, headers: carrier };
  }

  /** Sends what is buffered and stops exporting (at gateway close). */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.provider.forceFlush();
  }
}

export function endUpstreamSpan(span: Span, info: UpstreamResponseInfo): void {
  span.updateName(`${info.method} ${info.route}`);
  span.setAttribute('http.request.method', info.method);
  span.setAttribute('url.template', info.route);
  if (info.status !== null) span.setAttribute('http.response.status_code', info.status);
  if (info.status === null || info.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
