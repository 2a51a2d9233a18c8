// The answer to a request refused before Yoga parses it: a GraphQL-over-HTTP error body with a
// status and an extensions.code, like the errors Yoga itself writes. The refusal's code is
// recorded in the request's telemetry, so it is logged and counted like any other outcome.

import type { FetchAPI } from 'graphql-yoga';
import type { ErrorCode } from '../errors/registry.js';
import { telemetryOf } from '../telemetry/request-telemetry.js';

export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
  headers?: Record<string, string>;
}

/**
 * The JSON body of every refusal, from Yoga's hooks or from the node:http guard (guard.ts): what
 * codedError's error prints, written directly, as it is sent before any GraphQL runs and often
 * under load (no stack captured per refused request).
 */
export function refusalBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

export function refusal(request: Request, fetchAPI: FetchAPI, { status, code, message, headers = {} }: Refusal): Response {
  telemetryOf(request).errorCode = code;
  return new fetchAPI.Response(refusalBody(code, message), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
