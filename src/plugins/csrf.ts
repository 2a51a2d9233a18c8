// CSRF prevention: no operation runs from a request a browser sends cross-site without a CORS
// preflight. Such "simple" requests are POSTs with a form, multipart or text/plain body (or no
// Content-Type), and GETs with only safelisted headers. So a POST must declare another body
// type (application/json), and a GET that carries an operation must bring a header that forces
// a preflight: a non-simple Content-Type (Apollo Client sends application/json), Authorization
// (urql's GET queries carry only that), or apollo-require-preflight / x-apollo-operation-name.
// GraphiQL's page (a GET with no operation) still opens.

import type { Plugin } from 'graphql-yoga';
import { refusal } from '../http/refusal.js';
import { ErrorCode } from '../errors/registry.js';

const SIMPLE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);
// Not CORS-safelisted: a browser preflights a cross-site request that carries any of them.
const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name', 'authorization'];

/** The media type alone, lowercase: "application/json; charset=utf-8" -> "application/json". */
function mediaType(contentType: string | null): string | null {
  return contentType === null ? null : (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Whether CSRF prevention lets a POST with this Content-Type through (the fast lane's gate asks too). */
export function csrfAllowsPost(contentType: string | null): boolean {
  const type = mediaType(contentType);
  return type !== null && !SIMPLE_CONTENT_TYPES.has(type);
}

export function useCsrfPrevention(graphqlEndpoint: string): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== graphqlEndpoint) return;
      const refuse = (status: number, message: string) => endResponse(refusal(request, fetchAPI, { status, code: ErrorCode.CSRF_PREVENTED, message }));
      const contentType = request.headers.get('content-type');
      if (request.method === 'POST' && !csrfAllowsPost(contentType)) {
        refuse(415, 'POST bodies must be sent as Content-Type: application/json; form, multipart and text bodies are refused (CSRF protection).');
        return;
      }
      const carriesOperation = url.searchParams.has('query') || url.searchParams.has('extensions');
      const preflighted = csrfAllowsPost(contentType) || PREFLIGHT_HEADERS.some((name) => request.headers.has(name));
      if (request.method === 'GET' && carriesOperation && !preflighted) {
        refuse(
          400,
          'A GET operation needs a header that forces a CORS preflight: Content-Type: application/json, ' +
            'Authorization, apollo-require-preflight or x-apollo-operation-name (CSRF protection).',
        );
      }
    },
  };
}
