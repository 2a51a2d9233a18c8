// The typed errors a client can act on (members of result unions), and the coded GraphQL
// errors (extensions.code) for everything else an upstream call can end in.

import { GraphQLError } from 'graphql';
import { builder } from './builder.js';
import { UpstreamError } from '../upstream/errors.js';
import type { LaravelValidationBody } from '../upstream/errors.js';

/** Every extensions.code this gateway produces; the README's error table lists them. */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  RATE_LIMITED: 'RATE_LIMITED',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  BAD_UPSTREAM_RESPONSE: 'BAD_UPSTREAM_RESPONSE',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** A bound on what one request may ask (the same code the operation-limits plugin uses). */
  OPERATION_LIMIT_EXCEEDED: 'OPERATION_LIMIT_EXCEEDED',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_STORE_UNAVAILABLE: 'IDEMPOTENCY_STORE_UNAVAILABLE',
  OUTCOME_UNKNOWN: 'OUTCOME_UNKNOWN',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'A refusal the client can show or act on. Every member of a result union but the success implements it.',
  fields: (t) => ({
    message: t.exposeString('message', { nullable: false }),
  }),
});

export class AmbassadorNotFoundError extends Error {
  constructor(readonly ambassadorId: string) {
    super(`Ambassador ${ambassadorId} does not exist.`);
    this.name = 'AmbassadorNotFoundError';
  }
}

builder.objectType(AmbassadorNotFoundError, {
  name: 'AmbassadorNotFoundError',
  interfaces: [ErrorInterface],
  description: 'The upstream has no ambassador with this id (HTTP 404). Nothing was recorded.',
  fields: (t) => ({
    ambassadorId: t.exposeID('ambassadorId', { nullable: false }),
  }),
});

export interface FieldErrorShape {
  field: string;
  path: string[] | null;
  messages: string[];
}

export class ValidationError extends Error {
  constructor(
    message: string,
    readonly fieldErrors: FieldErrorShape[],
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

const FieldError = builder.objectRef<FieldErrorShape>('FieldError').implement({
  description: 'The refusal of one value.',
  fields: (t) => ({
    field: t.exposeString('field', {
      nullable: false,
      description: 'The upstream\'s name for the value: "challenge_id", "points", ...; "id" for the ambassador path parameter.',
    }),
    path: t.exposeStringList('path', {
      nullable: { list: true, items: false },
      description: 'Where the value came from in this operation, e.g. ["input","challengeId"]; null if no argument maps to it.',
    }),
    messages: t.exposeStringList('messages', { nullable: { list: false, items: false } }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  description: 'The input was refused, by the gateway before any upstream call or by the upstream (HTTP 422). Nothing was recorded.',
  fields: (t) => ({
    fieldErrors: t.field({
      type: [FieldError],
      nullable: { list: false, items: false },
      resolve: (error) => error.fieldErrors,
    }),
  }),
});

/**
 * Builds a ValidationError from a Laravel 422 body (already bounded by readLaravelValidation),
 * each key mapped to its argument path; keys are looked up as own properties only, so
 * "constructor" or "__proto__" is a field without a path. What the bounds left out is counted
 * in the message.
 */
export function validationErrorFromUpstream(
  body: LaravelValidationBody,
  pathsByField: Readonly<Record<string, readonly string[]>>,
): ValidationError {
  const fieldErrors = body.errors.map(({ field, messages }) => ({
    field,
    path: Object.hasOwn(pathsByField, field) ? [...pathsByField[field]!] : null,
    messages,
  }));
  const { fields, messages } = body.omitted;
  const leftOut = [
    fields > 0 ? `${fields} more field${fields === 1 ? '' : 's'}` : '',
    messages > 0 ? `${messages} more message${messages === 1 ? '' : 's'}` : '',
  ].filter(Boolean);
  const message = leftOut.length > 0 ? `${body.message} (${leftOut.join(' and ')} left out)` : body.message;
  return new ValidationError(message, fieldErrors);
}

/** No token: nothing was sent. With `reportOutcome` (mutations) it says so, as every mutation error does. */
export function unauthenticatedError({ reportOutcome }: { reportOutcome: boolean }): GraphQLError {
  return new GraphQLError('This field needs an "Authorization: Bearer <token>" header.', {
    extensions: { code: ErrorCode.UNAUTHENTICATED, ...(reportOutcome ? { outcomeUnknown: false } : {}) },
  });
}

const MAY_EXIST = ' The challenge history may have been recorded: check before retrying.';

/**
 * The coded GraphQL error for an upstream failure that is not a typed result. With
 * `reportOutcome` (mutations) it carries outcomeUnknown, true when the request was sent and
 * the answer was not a documented refusal.
 */
export function mapUpstreamError(error: unknown, { reportOutcome }: { reportOutcome: boolean }): unknown {
  // Not an upstream answer: returned as it is, for Yoga to mask as an unexpected error.
  if (!(error instanceof UpstreamError)) return error;
  const outcomeUnknown = reportOutcome && error.requestMayHaveBeenProcessed;
  const [code, message] = describe(error);
  const extensions: Record<string, unknown> = { code };
  if (reportOutcome) extensions.outcomeUnknown = outcomeUnknown;
  if (error.retryAfterSeconds !== null) extensions.retryAfter = error.retryAfterSeconds;
  return new GraphQLError(outcomeUnknown ? message + MAY_EXIST : message, { extensions });
}

function describe(error: UpstreamError): [ErrorCode, string] {
  switch (error.kind) {
    case 'unauthorized':
      return [ErrorCode.UNAUTHENTICATED, 'The upstream did not accept the bearer token.'];
    case 'forbidden':
      return [ErrorCode.FORBIDDEN, 'The bearer token is not allowed to do this.'];
    case 'rate_limited':
      return [ErrorCode.RATE_LIMITED, 'The upstream is rate limiting this client; retry later.'];
    case 'timeout':
      return [ErrorCode.UPSTREAM_TIMEOUT, 'The upstream did not answer in time.'];
    case 'unavailable':
      return [ErrorCode.UPSTREAM_UNAVAILABLE, 'The upstream is unavailable.'];
    case 'not_found':
    case 'validation':
    case 'bad_response':
      return [ErrorCode.BAD_UPSTREAM_RESPONSE, 'The upstream sent an answer the gateway cannot use.'];
  }
}
