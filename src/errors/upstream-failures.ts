// What a client gets for an upstream call that failed without a typed result: the kind of failure
// (src/upstream/errors.ts) to a code and a message, as a table. Whether the error reports an
// outcome, and what may exist then, is the calling field's to say (a read reports none).

import { UpstreamError } from '../upstream/errors.js';
import type { UpstreamErrorKind } from '../upstream/errors.js';
import { codedError } from './factory.js';
import { ErrorCode } from './registry.js';

const UNUSABLE_ANSWER = { code: ErrorCode.BAD_UPSTREAM_RESPONSE, message: 'The upstream sent an answer the gateway cannot use.' };

const UPSTREAM_FAILURES: Readonly<Record<UpstreamErrorKind, { code: ErrorCode; message: string }>> = {
  no_token: { code: ErrorCode.UNAUTHENTICATED, message: 'This field needs an "Authorization: Bearer <token>" header.' },
  unauthorized: { code: ErrorCode.UNAUTHENTICATED, message: 'The upstream did not accept the bearer token.' },
  forbidden: { code: ErrorCode.FORBIDDEN, message: 'The bearer token is not allowed to do this.' },
  rate_limited: { code: ErrorCode.RATE_LIMITED, message: 'The upstream is rate limiting this client; retry later.' },
  timeout: { code: ErrorCode.UPSTREAM_TIMEOUT, message: 'The upstream did not answer in time.' },
  unavailable: { code: ErrorCode.UPSTREAM_UNAVAILABLE, message: 'The upstream is unavailable.' },
  // An endpoint says what its 404 and 422 mean; reaching here, they are answers it did not expect.
  not_found: UNUSABLE_ANSWER,
  validation: UNUSABLE_ANSWER,
  bad_response: UNUSABLE_ANSWER,
};

const CIRCUIT_OPEN_MESSAGE = 'The upstream is failing, so the gateway sent nothing (circuit open); retry later.';
const GATEWAY_LIMIT_MESSAGE = 'This client made too many upstream calls; the gateway sent nothing. Retry after retryAfter seconds.';

/** What a mutation field says of its failures: it reports outcomeUnknown, and names what may exist when it is true. */
export interface WriteOutcome {
  /** E.g. "The challenge history may have been recorded"; the advice to check follows it. */
  mayExist: string;
}

/**
 * The coded GraphQL error for an upstream failure that is not a typed result. For a write it
 * carries outcomeUnknown: true when the request may have reached the upstream and the answer was
 * not a documented refusal. Anything else (a typed result, an error already mapped, a bug) is
 * returned as it is: Yoga masks the unexpected ones.
 */
export function mapUpstreamError(error: unknown, write?: WriteOutcome): unknown {
  if (!(error instanceof UpstreamError)) return error;
  const { code, message } = UPSTREAM_FAILURES[error.kind];
  const outcomeUnknown = write !== undefined && error.requestMayHaveBeenProcessed;
  const extensions: Record<string, unknown> = {};
  if (write) extensions.outcomeUnknown = outcomeUnknown;
  if (error.retryAfterSeconds !== null) extensions.retryAfter = error.retryAfterSeconds;
  // Refusals of the gateway's own, before anything was sent: safe to retry (after retryAfter).
  if (error.circuitOpen) {
    extensions.circuitOpen = true;
    return codedError(code, CIRCUIT_OPEN_MESSAGE, extensions);
  }
  if (error.limitedByGateway) {
    extensions.limitedBy = 'gateway';
    return codedError(code, GATEWAY_LIMIT_MESSAGE, extensions);
  }
  return codedError(code, outcomeUnknown ? `${message} ${write.mayExist}: check before retrying.` : message, extensions);
}
