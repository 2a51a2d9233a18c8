// Bounds the request body before anything reads it: a POST must declare its length (every
// GraphQL client does), and one longer than MAX_REQUEST_BODY_BYTES is refused with 413.

import type { Plugin } from 'graphql-yoga';
import { refusal } from './refusal.js';
import { ErrorCode } from '../errors/registry.js';

export function useRequestBodyLimit(maxBytes: number): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const declared = request.headers.get('content-length');
      const refuse = (status: number, code: string, message: string) =>
        // The unread rest of the body is not worth keeping the connection for.
        endResponse(refusal(request, fetchAPI, { status, code, message, headers: { connection: 'close' } }));
      if (declared === null) {
        refuse(411, ErrorCode.LENGTH_REQUIRED, 'A POST must declare its Content-Length.');
      } else if (Number(declared) > maxBytes) {
        refuse(413, ErrorCode.REQUEST_TOO_LARGE, `The request body is ${declared} bytes; at most ${maxBytes} are accepted.`);
      }
    },
  };
}
