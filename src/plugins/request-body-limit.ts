// Bounds the request body before anything reads it: a POST must declare its length (every
// GraphQL client does), and one longer than MAX_REQUEST_BODY_BYTES is refused with 413.

import type { Plugin } from 'graphql-yoga';
import { refusal } from '../http/refusal.js';
import type { Refusal } from '../http/refusal.js';
import { ErrorCode } from '../errors/registry.js';

/** The refusal a POST with this declared Content-Length gets; null when the limit lets it through (the fast lane's gate asks too). */
export function bodyLengthRefusal(declared: string | null | undefined, maxBytes: number): Refusal | null {
  if (declared == null) return { status: 411, code: ErrorCode.LENGTH_REQUIRED, message: 'A POST must declare its Content-Length.' };
  if (Number(declared) > maxBytes) {
    return { status: 413, code: ErrorCode.REQUEST_TOO_LARGE, message: `The request body is ${declared} bytes; at most ${maxBytes} are accepted.` };
  }
  return null;
}

export function useRequestBodyLimit(maxBytes: number): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const refused = bodyLengthRefusal(request.headers.get('content-length'), maxBytes);
      // The unread rest of the body is not worth keeping the connection for.
      if (refused) endResponse(refusal(request, fetchAPI, { ...refused, headers: { connection: 'close' } }));
    },
  };
}
