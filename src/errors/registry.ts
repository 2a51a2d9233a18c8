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

const YOGA = 'yoga';

/** An error beside `data` (HTTP 200), as a field's resolver throws it. */
function fieldError(outcomeUnknown: OutcomeReport, meaning: string, by: ErrorCodeEntry['by'] = 'gateway'): ErrorCodeEntry {
  return { by, status: [200], outcomeUnknown, meaning };
}

/** A request refused before any field runs: no `data`, nothing sent upstream. */
function refusal(status: readonly number[], meaning: string, by: ErrorCodeEntry['by'] = 'gateway'): ErrorCodeEntry {
  return { by, status, outcomeUnknown: 'absent', meaning };
}

const ERROR_CODES = {
  // A field's error, beside `data` (src/errors/upstream-failures.ts maps the upstream's answers to these).
  UNAUTHENTICATED: fieldError(
    'false',
    'No usable `Authorization: Bearer` header (nothing was sent), or the upstream answered 401. Retry after signing in again.',
  ),
  FORBIDDEN: fieldError('false', 'The upstream answered 403. Do not retry.'),
  RATE_LIMITED: fieldError(
    'false',
    'The upstream answered 429; `extensions.retryAfter` (whole seconds) when it sent `Retry-After`. With `extensions.limitedBy: "gateway"`: refused unsent by `CALLER_RATE_LIMIT`, or because the upstream answered this caller 429 less than `Retry-After` ago. Retry after `retryAfter`.',
  ),
  UPSTREAM_TIMEOUT: fieldError(
    'if-sent',
    'No complete answer within `UPSTREAM_TIMEOUT_MS`, or no free connection within `UPSTREAM_QUEUE_TIMEOUT_MS` (then never sent). Retry only if `outcomeUnknown` is false, or after checking.',
  ),
  UPSTREAM_UNAVAILABLE: fieldError(
    'if-sent',
    'Connection refused or reset, DNS failure, any 5xx. With `extensions.circuitOpen: true` (and `retryAfter`): refused unsent while the upstream keeps failing (`UPSTREAM_BREAKER_*`). Retry only if `outcomeUnknown` is false, or after checking.',
  ),
  BAD_UPSTREAM_RESPONSE: fieldError('if-sent', 'A 3xx (never followed), or a 2xx body that is not the JSON promised. Retry only after checking.'),
  BAD_USER_INPUT: {
    by: 'gateway',
    status: [200, 400],
    outcomeUnknown: 'absent',
    meaning:
      '`Query.challenge` (or a `Challenge` in `_entities`) with an id that is not a positive int32; `addChallengeHistories` with more than `BATCH_MAX_ITEMS` items; an `Ambassador` in `_entities` (not resolvable here); an `Idempotency-Key` header on a request without exactly one `addChallengeHistory` field. A variable that is missing or does not coerce to its type: 400 (200 to `Accept: application/json`), no `data`.',
  },
  IDEMPOTENCY_KEY_REUSED: fieldError('false', 'The `idempotencyKey` is taken by another caller or by other arguments; nothing was sent.'),
  IDEMPOTENCY_STORE_UNAVAILABLE: fieldError(
    'false',
    'A keyed award while the idempotency store cannot take it (unreachable, full, unfit for money, just lost its data, too few replicas); nothing was sent. Retry later with the same key.',
  ),
  OUTCOME_UNKNOWN: fieldError('true', "A repeat of a keyed award whose first request's outcome was never recorded: check whether the award exists."),
  INTERNAL_SERVER_ERROR: fieldError(
    'absent',
    'An unexpected failure inside the gateway, masked as `Unexpected error.` (`extensions.unexpected: true`). Retry only after checking.', YOGA,
  ),
  // Refusals before any field runs: no `data`.
  OPERATION_LIMIT_EXCEEDED: {
    by: 'gateway',
    status: [400, 200],
    outcomeUnknown: 'false',
    meaning:
      'A bound on what one request may ask: depth, aliases, tokens, directives, root mutation fields (400, or 200 to `Accept: application/json`), `MAX_UPSTREAM_CALLS_PER_REQUEST` (nothing sent; `outcomeUnknown: false` on a mutation), `GRAPHQL_MAX_COST` (`extensions.cost` and `maxCost`; nothing sent).',
  },
  RESPONSE_TOO_LARGE: {
    by: 'gateway',
    status: [200],
    outcomeUnknown: 'if-sent',
    meaning:
      'The answer would take more than `MAX_RESPONSE_BYTES` of JSON, so it is not built or sent (`extensions.maxResponseBytes`); what the operation did stands. Ask for fewer fields or items; retry an award only with its `idempotencyKey`.',
  },
  CSRF_PREVENTED: refusal(
    [415,
    400], 'A POST not sent as `application/json` (415), or a GET operation without a header that forces a CORS preflight (400).',
  ),
  REQUEST_TOO_LARGE: refusal([413], 'A body declared longer than `MAX_REQUEST_BODY_BYTES`.'),
  LENGTH_REQUIRED: refusal([411], 'A POST without `Content-Length`.'),
  NOT_FOUND: refusal([404], 'A path the gateway does not serve (only `/graphql`, `/health`, `/ready`, `/metrics`).'),
  HOST_NOT_ALLOWED: refusal([403], 'The sandbox: a `Host` that is not a loopback name.'),
  SERVER_BUSY: refusal(
    [503],
    'The request bodies being received at once would pass `MAX_INFLIGHT_BODY_BYTES`, or the answers not yet read by their clients `MAX_INFLIGHT_RESPONSE_BYTES`; retry after `Retry-After`.',
  ),
  REQUEST_TIMEOUT: refusal([408], 'The request was not received within `REQUEST_TIMEOUT_MS` (or its headers within `HEADERS_TIMEOUT_MS`).'),
  REQUEST_HEADERS_TOO_LARGE: refusal([431], 'The request headers are larger than Node accepts.'),
  BAD_REQUEST: refusal(
    [400,
    413, 405], 'Not valid HTTP/1.1; malformed JSON; a body without an operation; an HTTP batch over `GRAPHQL_MAX_BATCH` (413); a mutation sent with GET (405). Also answered by Yoga.',
  ),
  SERVICE_SDL_FORBIDDEN: refusal(
    [403],
    "`_service { sdl }` in production without the router's `ROUTER_SHARED_SECRET` in `x-router-secret` (from anyone when introspection is off and no secret is set).",
  ),
  PERSISTED_QUERY_NOT_FOUND: refusal([200], 'APQ: the hash is not known yet; the client sends the document with it.'),
  PERSISTED_QUERY_HASH_MISMATCH: refusal([400], "APQ: the document's SHA-256 is not the hash sent; nothing is stored."),
  PERSISTED_QUERY_ONLY: refusal([200], 'Trusted documents: a document sent in full.'),
  PERSISTED_QUERY_NOT_IN_LIST: refusal([200], 'Trusted documents: a hash not in the file.'),
  GRAPHQL_PARSE_FAILED: refusal([400], 'The document does not parse.', YOGA),
  GRAPHQL_VALIDATION_FAILED: refusal(
    [400,
    200], 'The document does not validate against the schema, or introspection is off (200 to `Accept: application/json`).', YOGA,
  ),
  OPERATION_RESOLUTION_FAILURE: refusal([400], '`operationName` names no operation of the document.', YOGA),
  PERSISTED_QUERY_ID_REQUIRED: refusal([200], 'A body with neither `query` nor a persisted-query hash.', YOGA),
  CANNOT_SEND_PQ_ID_AND_BODY: refusal([400], 'A persisted-operation id sent together with a document.', YOGA),
  REQUEST_ENTITY_TOO_LARGE: refusal([413], "A body over Yoga's own size limit.", YOGA),
} satisfies Record<string, ErrorCodeEntry>;

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
