// The answer to a request refused before Yoga parses it: a GraphQL-over-HTTP error body with a
// status and an extensions.code, like the errors Yoga itself writes.

import type { FetchAPI } from 'graphql-yoga';

export function refusal(
  fetchAPI: FetchAPI,
  { status, code, message, headers = {} }: { status: number; code: string; message: string; headers?: Record<string, string> },
): Response {
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
