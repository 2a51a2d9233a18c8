// Prometheus metrics: serves GET /metrics (useMetrics) and observes each GraphQL request when its
// answer is made (requestMetrics; upstream calls are observed by the UpstreamClient's onResponse
// hook, in app/gateway.ts).

import type { Plugin } from 'graphql-yoga';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { RequestObserver } from '../telemetry/observers.js';

export const METRICS_PATH = '/metrics';

export function useMetrics(metrics: GatewayMetrics): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== METRICS_PATH) return;
      return metrics.registry.metrics().then((text) => {
        endResponse(new fetchAPI.Response(text, { headers: { 'content-type': metrics.registry.contentType } }));
      });
    },
  };
}

export function requestMetrics(metrics: GatewayMetrics): RequestObserver {
  return { onEnd: (telemetry) => metrics.observeRequest(telemetry) };
}
