// Prometheus metrics: serves GET /metrics and observes each GraphQL request when its response
// is made (upstream calls are observed by the UpstreamClient's onResponse hook, in server.ts).

import type { Plugin } from 'graphql-yoga';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { seenTelemetryOf } from '../telemetry/request-telemetry.js';

export const METRICS_PATH = '/metrics';

export function useMetrics(metrics: GatewayMetrics): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== METRICS_PATH) return;
      return metrics.registry.metrics().then((text) => {
        endResponse(new fetchAPI.Response(text, { headers: { 'content-type': metrics.registry.contentType } }));
      });
    },
    onResponse({ request }) {
      const telemetry = seenTelemetryOf(request);
      if (telemetry) metrics.observeRequest(telemetry);
    },
  };
}
