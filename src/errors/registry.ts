// Every extensions.code the gateway answers with, once: what it means, the HTTP status it comes
// with, and what it says of the outcome. Code refers to codes through ErrorCode only; the README's
// error-code table is printed from this list (printErrorCodeTable, `npm run docs:errors`) and a
// test fails when the two differ.

/** What an error with this code says in `extensions.outcomeUnknown` (mutations only: a read never has it). */
export type OutcomeReport =
  /** Never carries it: refused before any field ran, or not a mutation's error. */
  | 'absent'
  /** `false` on a mutation: nothing was sent, or the upstream refused and recorded nothing. */
  | 'false'
  /** `true` when the request may have reached the upstream, `false` when it was never written to a socket. */
  | 'if-sent'
  /** Always `true`: the award may exist. */
  | 'true';

export interface ErrorCodeEntry {
  /** Who produces it: the gateway's own code, or Yoga's (the gateway lets it through unchanged). */
  by: 'gateway' | 'yoga';
  /** HTTP statuses it is answered with; 200 for an error beside `data` (a field error). */
  status: readonly number[];
  outcomeUnknown: OutcomeReport;
  /** When a client gets it (Markdown, one line). */
  meaning: string;
}

const FIELD_ERROR = [200] as const;

const ERROR_CODES = {
  // A field's error, beside `data` (src/errors/upstream-failures.ts maps the upstream's answers to these).
  UNAUTHENTICATED: {
    by: 'gateway',
    status: FIELD_ERROR,
    outcomeUnknown: 'false',
    meaning: 'No usable `Authorization: Bearer` header (nothing was sent), or the upstream answered 401. Retry after signing in again.',
  },
  FORBIDDEN: { by: 'gateway', status: FIELD_ERROR, outcomeUnknown: 'false', meaning: 'The upstream answered 403. Do not retry.' },
  RATE_LIMITED: {
    by: 'gateway',
    status: FIELD_ERROR,
    outcomeUnknown: 'false',
    meaning: 'The upstream answered 429; `extensions.retryAfter` (whole seconds) when it sent `Retry-After`. Retry after it.',
  },
  UPSTREAM_TIMEOUT: {
    by: 'gateway',
    status: FIELD_ERROR,
    outcomeUnknown: 'if-sent',
    meaning:
      'No complete answer within `UPSTREAM_TIMEOUT_MS`, or no free connection within `UPSTREAM_QUEUE_TIMEOUT_MS` (then never sent). Retry only if `outcomeUnknown` is false, or after checking.',
  },
  UPSTREAM_UNAVAILABLE: {
    by: 'gateway',
    status: FIELD_ERROR,
    outcomeUnknown: 'if-sent',
    meaning: 'Connection refused or reset, DNS failure, any 5xx. Retry only if `outcomeUnknown` is false, or after checking.',
  },
  BAD_UPSTREAM_RESPONSE: {
    by: 'gateway',
    status: FIELD_ERROR,
    outcomeUnknown: 'if-sent',
    meaning: 'A 3xx (never followed), or a 2xx body that is not the JSON promised. Retry only after checking.',
  },
  BAD_USER_INPUT: {
    by: 'gateway',
    status: FIELD_ERROR,
    outcomeUnknown: 'absent',
    meaning:
      '`Query.challenge` (or a `Challenge` in `_entities`) with an id that is not a positive int32; `addChallengeHistories` with more than `BATCH_MAX_ITEMS` items; an `Ambassador` in `_entities` (not resolvable here).',
  },
  IDEMPOTENCY_KEY_REUSED: {
    by: 'gateway',
    status: FIELD_ERROR,
    outcomeUnknown: 'false',
    meaning: 'The `idempotencyKey` is taken by another caller or by other arguments; nothing was sent.',
  },
  IDEMPOTENCY_STORE_UNAVAILABLE: {
    by: 'gateway',
    status: FIELD_ERROR,
    outcomeUnknown: 'false',
    meaning: 'A keyed award while the idempotency store does not answer; nothing was sent. Retry later with the same key.',
  },
  OUTCOME_UNKNOWN: {
    by: 'gateway',
    status: FIELD_ERROR,
    outcomeUnknown: 'true',
    meaning: "A repeat of a keyed award whose first request's outcome was never recorded: check whether the award exists.",
  },
  INTERNAL_SERVER_ERROR: {
    by: 'yoga',
    status: FIELD_ERROR,
    outcomeUnknown: 'absent',
    meaning: 'An unexpected failure inside the gateway, masked as `Unexpected error.` (`extensions.unexpected: true`). Retry only after checking.',
  },
  // Refusals before any field runs: no `data`.
  OPERATION_LIMIT_EXCEEDED: {
    by: 'gateway',
    status: [400, 200],
    outcomeUnknown: 'false',
    meaning:
      'A bound on what one request may ask: depth, aliases, tokens, directives, root mutation fields (400, or 200 to `Accept: application/json`), `MAX_UPSTREAM_CALLS_PER_REQUEST` (nothing sent; `outcomeUnknown: false` on a mutation).',
  },
  CSRF_PREVENTED: {
    by: 'gateway',
    status: [415, 400],
    outcomeUnknown: 'absent',
    meaning: 'A POST not sent as `application/json` (415), or a GET operation without a header that forces a CORS preflight (400).',
  },
  REQUEST_TOO_LARGE: { by: 'gateway', status: [413], outcomeUnknown: 'absent', meaning: 'A body declared longer than `MAX_REQUEST_BODY_BYTES`.' },
  LENGTH_REQUIRED: { by: 'gateway', status: [411], outcomeUnknown: 'absent', meaning: 'A POST without `Content-Length`.' },
  NOT_FOUND: { by: 'gateway', status: [404], outcomeUnknown: 'absent', meaning: 'A path the gateway does not serve (only `/graphql`, `/health`, `/ready`, `/metrics`).' },
  HOST_NOT_ALLOWED: { by: 'gateway', status: [403], outcomeUnknown: 'absent', meaning: 'The sandbox: a `Host` that is not a loopback name.' },
  SERVER_BUSY: {
    by: 'gateway',
    status: [503],
    outcomeUnknown: 'absent',
    meaning: 'The request bodies being received at once would pass `MAX_INFLIGHT_BODY_BYTES`; retry after `Retry-After`.',
  },
  REQUEST_TIMEOUT: { by: 'gateway', status: [408], outcomeUnknown: 'absent', meaning: 'The request was not received within `REQUEST_TIMEOUT_MS` (or its headers within `HEADERS_TIMEOUT_MS`).' },
  REQUEST_HEADERS_TOO_LARGE: { by: 'gateway', status: [431], outcomeUnknown: 'absent', meaning: 'The request headers are larger than Node accepts.' },
  BAD_REQUEST: {
    by: 'gateway',
    status: [400, 413, 405],
    outcomeUnknown: 'absent',
    meaning:
      'Not valid HTTP/1.1; malformed JSON; a body without an operation; an HTTP batch over `GRAPHQL_MAX_BATCH` (413); a mutation sent with GET (405). Also answered by Yoga.',
  },
  SERVICE_SDL_FORBIDDEN: {
    by: 'gateway',
    status: [403],
    outcomeUnknown: 'absent',
    meaning:
      "`_service { sdl }` in production without the router's `ROUTER_SHARED_SECRET` in `x-router-secret` (from anyone when introspection is off and no secret is set).",
  },
  PERSISTED_QUERY_NOT_FOUND: { by: 'gateway', status: [200], outcomeUnknown: 'absent', meaning: 'APQ: the hash is not known yet; the client sends the document with it.' },
  PERSISTED_QUERY_HASH_MISMATCH: { by: 'gateway', status: [400], outcomeUnknown: 'absent', meaning: "APQ: the document's SHA-256 is not the hash sent; nothing is stored." },
  PERSISTED_QUERY_ONLY: { by: 'gateway', status: [200], outcomeUnknown: 'absent', meaning: 'Trusted documents: a document sent in full.' },
  PERSISTED_QUERY_NOT_IN_LIST: { by: 'gateway', status: [200], outcomeUnknown: 'absent', meaning: 'Trusted documents: a hash not in the file.' },
  GRAPHQL_PARSE_FAILED: { by: 'yoga', status: [400], outcomeUnknown: 'absent', meaning: 'The document does not parse.' },
  GRAPHQL_VALIDATION_FAILED: {
    by: 'yoga',
    status: [400, 200],
    outcomeUnknown: 'absent',
    meaning: 'The document does not validate against the schema, or introspection is off (200 to `Accept: application/json`).',
  },
  OPERATION_RESOLUTION_FAILURE: { by: 'yoga', status: [400], outcomeUnknown: 'absent', meaning: '`operationName` names no operation of the document.' },
  PERSISTED_QUERY_ID_REQUIRED: { by: 'yoga', status: [200], outcomeUnknown: 'absent', meaning: 'A body with neither `query` nor a persisted-query hash.' },
  CANNOT_SEND_PQ_ID_AND_BODY: { by: 'yoga', status: [400], outcomeUnknown: 'absent', meaning: 'A persisted-operation id sent together with a document.' },
  REQUEST_ENTITY_TOO_LARGE: { by: 'yoga', status: [413], outcomeUnknown: 'absent', meaning: "A body over Yoga's own size limit." },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Each code by its own name: `ErrorCode.UNAUTHENTICATED === 'UNAUTHENTICATED'`. */
export const ErrorCode = Object.fromEntries(Object.keys(ERROR_CODES).map((code) => [code, code])) as { readonly [C in ErrorCode]: C };

/** Every code with its entry, in the registry's order. */
export const errorCodes: readonly (ErrorCodeEntry & { code: ErrorCode })[] = Object.entries(ERROR_CODES).map(([code, entry]) => ({
  code: code as ErrorCode,
  ...entry,
}));

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

export function errorCodeEntry(code: ErrorCode): ErrorCodeEntry {
  return ERROR_CODES[code];
}
