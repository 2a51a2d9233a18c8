// MAX_RESPONSE_BYTES: the JSON an HTTP request's answer may take, all its operations together.
// Each operation's result is measured before it is serialised, and the measuring stops as soon as
// the request's remaining bytes are passed, so an answer too large is never built as text: the
// client gets RESPONSE_TOO_LARGE in its place. Yoga's path runs it as a plugin (onExecuteDone);
// the fast lane calls boundAnswer on its result at the same point, after masking.
//
// The measure is an estimate of JSON.stringify's output, close for what this schema answers:
// strings count their UTF-16 length (escapes and multi-byte characters are not counted), numbers
// a bound on their printed length. GRAPHQL_MAX_COST bounds the fields an answer holds before it
// runs; this bounds their bytes (long upstream strings, lists the upstream fills).

import { getOperationAST } from 'graphql';
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../schema/context.js';
import { codedError } from '../errors/factory.js';
import { ErrorCode } from '../errors/registry.js';
import type { RequestTelemetry } from '../telemetry/request-telemetry.js';

// Bytes already answered by earlier operations of the same HTTP request (an HTTP batch).
const answered = new WeakMap<RequestTelemetry, number>();

/**
 * The result to send for one operation of the request `telemetry` tracks: `result` itself when
 * it fits in what is left of `maxBytes`, else a RESPONSE_TOO_LARGE error in its place.
 */
export function boundAnswer(
  result: ExecutionResult,
  telemetry: RequestTelemetry,
  maxBytes: number,
  { mutation, onlyOperation }: { mutation: boolean; /** No other operation shares the request (the fast lane's). */ onlyOperation: boolean },
): ExecutionResult {
  const left = onlyOperation ? maxBytes : maxBytes - (answered.get(telemetry) ?? 0);
  const bytes = jsonBytes(result, left);
  if (bytes <= left) {
    if (!onlyOperation) answered.set(telemetry, maxBytes - left + bytes);
    return result;
  }
  return {
    data: null,
    errors: [
      codedError(
        ErrorCode.RESPONSE_TOO_LARGE,
        `The answer would take more than MAX_RESPONSE_BYTES (${maxBytes} bytes of JSON) and was not sent: select fewer fields, aliases or items.`,
        {
          maxResponseBytes: maxBytes,
          // What the mutation did stands: its awards may exist when any call reached the upstream.
          ...(mutation ? { outcomeUnknown: telemetry.upstreamCalls > 0 } : {}),
        },
      ),
    ],
  };
}

/** The Yoga plugin: every operation's result passes boundAnswer before Yoga serialises it. */
export function useResponseSizeLimit(maxBytes: number): Plugin {
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: ({ result, setResult }) => {
        // Incremental delivery (a stream of results) is not served by this schema.
        if (Symbol.asyncIterator in result) return;
        const { telemetry } = args.contextValue as unknown as GatewayContext;
        const mutation = getOperationAST(args.document, args.operationName)?.operation === 'mutation';
        const bounded = boundAnswer(result, telemetry, maxBytes, { mutation, onlyOperation: false });
        if (bounded !== result) setResult(bounded);
      },
    }),
  };
}

// Printed length bounds: a small whole number prints as at most 7 characters, any other number as at most 24.
const SMALL_INTEGER_BYTES = 7;
const NUMBER_BYTES = 24;

/**
 * About the bytes of JSON.stringify(value); stops counting once past `limit` (the answer is then
 * refused whatever the rest holds), so measuring costs at most what `limit` bytes cost.
 */
export function jsonBytes(value: unknown, limit: number): number {
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
      return Number.isInteger(value) && value > -1e6 && value < 1e6 ? SMALL_INTEGER_BYTES : NUMBER_BYTES;
    case 'boolean':
      return 5;
    case 'object':
      break;
    default:
      return 4; // null, and what JSON leaves out or prints as null
  }
  if (value === null) return 4;
  if (Array.isArray(value)) {
    let bytes = 2;
    for (const item of value) {
      bytes += jsonBytes(item, limit - bytes) + 1;
      if (bytes > limit) return bytes;
    }
    return bytes;
  }
  // GraphQLError (and Date) say themselves what JSON prints of them.
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') return jsonBytes(toJSON.call(value), limit);
  let bytes = 2;
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    bytes += key.length + 4 + jsonBytes(item, limit - bytes);
    if (bytes > limit) return bytes;
  }
  return bytes;
}
