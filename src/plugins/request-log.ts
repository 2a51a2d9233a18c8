// One log line per HTTP request, and the request id that ties it to the upstream's logs:
// taken from an incoming x-request-id when it is sane, made otherwise, returned to the client.

import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logging.js';

interface RequestFacts {
  id: string;
  started: number;
  operationName?: string;
}

const facts = new WeakMap<Request, RequestFacts>();
const SANE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** The id of a request seen by useRequestLog (made on first use, for requests it did not see). */
export function requestIdOf(request: Request): string {
  let entry = facts.get(request);
  if (!entry) {
    const incoming = request.headers.get('x-request-id');
    entry = { id: incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID(), started: performance.now() };
    facts.set(request, entry);
  }
  return entry.id;
}

export function useRequestLog(logger: Logger): Plugin {
  return {
    onRequest({ request }) {
      requestIdOf(request);
    },
    onParams({ request, params }) {
      const entry = facts.get(request);
      if (entry && params.operationName) entry.operationName = params.operationName;
    },
    onResponse({ request, response }) {
      const entry = facts.get(request);
      if (!entry) return;
      response.headers.set('x-request-id', entry.id);
      const url = new URL(request.url);
      logger.info('request', {
        requestId: entry.id,
        method: request.method,
        path: url.pathname,
        status: response.status,
        operationName: entry.operationName ?? null,
        durationMs: Math.round((performance.now() - entry.started) * 100) / 100,
      });
    },
  };
}
