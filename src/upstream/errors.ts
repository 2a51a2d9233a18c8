// Every way an upstream call can fail, as data. The GraphQL layer decides what each
// kind means to a client (src/errors/upstream-failures.ts); this module knows nothing of GraphQL.

export type UpstreamErrorKind =
  | 'no_token' // the caller sent no usable token: nothing was sent (UpstreamApi refuses the call)
  | 'not_found' // 404
  | 'validation' // 422
  | 'unauthorized' // 401
  | 'forbidden' // 403
  | 'rate_limited' // 429
  | 'timeout' // no complete answer within the deadline
  | 'unavailable' // connection refused/reset, DNS failure, 5xx
  | 'bad_response'; // 3xx, or a 2xx body that is not the JSON promised

/** One 422 key and its messages, in the upstream's order. */
export interface UpstreamFieldMessages {
  field: string;
  messages: string[];
}

/** A Laravel 422 body, bounded (VALIDATION_BOUNDS): `omitted` counts what was left out. */
export interface LaravelValidationBody {
  message: string;
  errors: UpstreamFieldMessages[];
  /** Keys beyond `maxFields`, and messages beyond `maxMessagesPerField` within the keys kept. */
  omitted: { fields: number; messages: number };
}

/**
 * What the gateway keeps of a 422 body. Generous for a real form (a handful of fields, one or
 * two messages each), small enough that a hostile 422 costs a bounded answer and bounded work.
 */
export const VALIDATION_BOUNDS = {
  maxFields: 50,
  maxMessagesPerField: 10,
  /** Characters kept of a key or a message; longer ones end in an ellipsis. */
  maxTextLength: 500,
} as const;

export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  /** HTTP status when the upstream answered; null when it did not. */
  readonly status: number | null;
  /**
   * True when the request may have reached the upstream and its effect is unknown:
   * the caller must not blindly repeat a non-idempotent request.
   */
  readonly requestMayHaveBeenProcessed: boolean;
  readonly retryAfterSeconds: number | null;
  readonly validation: LaravelValidationBody | null;
  /** Refused unsent by the gateway's circuit breaker (breaker.ts): the upstream was failing. */
  readonly circuitOpen: boolean;
  /** Refused unsent by the gateway's own per-caller limit (not the upstream's 429). */
  readonly limitedByGateway: boolean;

  constructor(
    kind: UpstreamErrorKind,
    detail: string,
    options: {
      status?: number | null;
      requestMayHaveBeenProcessed?: boolean;
      retryAfterSeconds?: number | null;
      validation?: LaravelValidationBody | null;
      cause?: unknown;
      circuitOpen?: boolean;
      limitedByGateway?: boolean;
    } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'UpstreamError';
    this.kind = kind;
    this.status = options.status ?? null;
    this.requestMayHaveBeenProcessed = options.requestMayHaveBeenProcessed ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
    this.validation = options.validation ?? null;
    this.circuitOpen = options.circuitOpen ?? false;
    this.limitedByGateway = options.limitedByGateway ?? false;
  }
}

/** Statuses the upstream documents as refusals: nothing was created. */
const DOCUMENTED_REFUSALS = new Map<number, UpstreamErrorKind>([
  [401, 'unauthorized'],
  [403, 'forbidden'],
  [404, 'not_found'],
  [422, 'validation'],
  [429, 'rate_limited'],
]);

/**
 * Maps a non-2xx status (with its already-read body) to an UpstreamError.
 * Anything outside the documented refusals leaves the outcome unknown.
 */
export function mapUpstreamStatus(
  status: number,
  body: unknown,
  headers: { retryAfter?: string | undefined; statusText?: string },
  now: () => number = Date.now,
): UpstreamError {
  const refusal = DOCUMENTED_REFUSALS.get(status);
  if (refusal === 'validation') {
    return new UpstreamError('validation', `upstream refused the input (${status})`, {
      status,
      validation: readLaravelValidation(body) ?? {
        message: headers.statusText || 'Unprocessable Content',
        errors: [],
        omitted: { fields: 0, messages: 0 },
      },
    });
  }
  if (refusal === 'rate_limited') {
    return new UpstreamError('rate_limited', `upstream rate limited the request (${status})`, {
      status,
      retryAfterSeconds: parseRetryAfter(headers.retryAfter, now),
    });
  }
  if (refusal) return new UpstreamError(refusal, `upstream answered ${status}`, { status });
  if (status >= 500) {
    return new UpstreamError('unavailable', `upstream answered ${status}`, {
      status,
      requestMayHaveBeenProcessed: true,
    });
  }
  // 3xx (never followed: it could carry the token elsewhere), 1xx leftovers, other 4xx.
  return new UpstreamError('bad_response', `upstream answered an unexpected ${status}`, {
    status,
    requestMayHaveBeenProcessed: true,
  });
}

/**
 * Accepts `{message, errors: {field: [msg...]}}`; anything else is not the Laravel shape.
 * Keys are read as own properties in the upstream's order ("constructor" and "__proto__" are
 * field names like any other), and the walk stops at the bounds: a 422 with 100k keys costs
 * VALIDATION_BOUNDS.maxFields iterations plus one count.
 */
export function readLaravelValidation(body: unknown): LaravelValidationBody | null {
  if (!isPlainObject(body) || !isPlainObject(ownValue(body, 'errors'))) return null;
  const source = body.errors as Record<string, unknown>;
  const { maxFields, maxMessagesPerField } = VALIDATION_BOUNDS;
  const errors: UpstreamFieldMessages[] = [];
  const omitted = { fields: 0, messages: 0 };
  let visited = 0;
  for (const field in source) {
    if (!Object.hasOwn(source, field)) continue;
    if (errors.length === maxFields) break;
    visited++;
    const raw = source[field];
    const strings = (Array.isArray(raw) ? raw : [raw]).filter((m): m is string => typeof m === 'string');
    if (!Array.isArray(raw) && strings.length === 0) continue; // neither a list nor a message: not a field error
    omitted.messages += Math.max(0, strings.length - maxMessagesPerField);
    errors.push({ field: boundText(field), messages: strings.slice(0, maxMessagesPerField).map(boundText) });
  }
  if (errors.length === maxFields) omitted.fields = Object.keys(source).length - visited;
  const message = ownValue(body, 'message');
  return {
    message: typeof message === 'string' && message.trim() !== '' ? boundText(message) : 'The given data was invalid.',
    errors,
    omitted,
  };
}

function boundText(text: string): string {
  const max = VALIDATION_BOUNDS.maxTextLength;
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The longest Retry-After the gateway passes on: a day; beyond it the value is not a useful hint. */
export const MAX_RETRY_AFTER_SECONDS = 86_400;

// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms.
const HTTP_DATE =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/**
 * Retry-After is either delta-seconds (digits only) or an HTTP-date; both become whole seconds
 * from now, capped at MAX_RETRY_AFTER_SECONDS. Anything else ("1.5", "soon") is no hint at all.
 */
export function parseRetryAfter(value: string | undefined, now: () => number = Date.now): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else if (HTTP_DATE.test(trimmed)) seconds = Math.ceil((Date.parse(trimmed) - now()) / 1000);
  else return null;
  if (Number.isNaN(seconds)) return null;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, seconds));
}

/** Characters of an upstream body kept in a failure's log line. */
export const FAILURE_EXCERPT_CHARS = 200;

// Transport error codes (Node's, undici's) -> the cause an operator acts on.
const TRANSPORT_CAUSES: [RegExp, string][] = [
  [/^ECONNREFUSED$/, 'refused'],
  [/^(ECONNRESET|EPIPE|UND_ERR_SOCKET|ECONNABORTED|UND_ERR_CLOSED)$/, 'reset'],
  [/^(ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|EAI_NODATA)$/, 'dns'],
  [/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|EPROTO)/, 'tls'],
  [/^(ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT)$/, 'timeout'],
  [/^(EHOSTUNREACH|ENETUNREACH|ENETDOWN|EHOSTDOWN)$/, 'unreachable'],
];

/** The error code of a transport failure: the most specific one along its `cause` chain (undici wraps Node's). */
export function transportCode(error: unknown): string {
  let generic = '';
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (code !== 'UND_ERR_SOCKET') return code;
      generic = code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return generic;
}

/** "refused (ECONNREFUSED)", "reset (UND_ERR_SOCKET)", "dns (ENOTFOUND)", "tls (CERT_HAS_EXPIRED)"...: one short word an operator acts on, and the code. */
export function transportCause(error: unknown): string {
  const code = transportCode(error);
  if (code === '') return 'transport error';
  const cause = TRANSPORT_CAUSES.find(([pattern]) => pattern.test(code))?.[1];
  return cause ? `${cause} (${code})` : code.slice(0, 64);
}

/**
 * A bounded, single-line excerpt of a body for a log line: control characters become spaces and
 * the caller's token, should the upstream echo it, becomes [token]. Redacted before truncation,
 * from the first 4 KiB, so no cut leaves part of the token behind.
 */
export function bodyExcerpt(bytes: Buffer | undefined, token: string): string {
  if (!bytes || bytes.length === 0) return '';
  let text = bytes.subarray(0, 4096).toString('utf8');
  if (token !== '') text = text.split(token).join('[token]');
  // eslint-disable-next-line no-control-regex
  text = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return text.length <= FAILURE_EXCERPT_CHARS ? text : `${text.slice(0, FAILURE_EXCERPT_CHARS - 1)}…`;
}

/** obj[key] when obj has it as an own property: upstream JSON never reaches Object.prototype. */
export function ownValue(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The POST's 404: the ambassador does not exist, nothing was recorded. A typed answer, not a
 * failure: nothing reads its stack, and capturing one costs more than the rest of the error (a
 * batch of 500 refused items makes 500), so none is captured.
 */
export class AmbassadorNotFoundError extends Error {
  readonly ambassadorId: string;
  constructor(ambassadorId: string) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`Ambassador ${ambassadorId} does not exist.`);
    Error.stackTraceLimit = stackTraceLimit;
    this.ambassadorId = ambassadorId;
    this.name = 'AmbassadorNotFoundError';
  }
}
