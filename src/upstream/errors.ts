// Every way an upstream call can fail, as data. The GraphQL layer decides what each
// kind means to a client (src/schema/errors.ts); this module knows nothing of GraphQL.

export type UpstreamErrorKind =
  | 'not_found' // 404
  | 'validation' // 422
  | 'unauthorized' // 401
  | 'forbidden' // 403
  | 'rate_limited' // 429
  | 'timeout' // no complete answer within the deadline
  | 'unavailable' // connection refused/reset, DNS failure, 5xx
  | 'bad_response'; // 3xx, or a 2xx body that is not the JSON promised

export interface LaravelValidationBody {
  message: string;
  errors: Record<string, string[]>;
}

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

  constructor(
    kind: UpstreamErrorKind,
    detail: string,
    options: {
      status?: number | null;
      requestMayHaveBeenProcessed?: boolean;
      retryAfterSeconds?: number | null;
      validation?: LaravelValidationBody | null;
      cause?: unknown;
    } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'UpstreamError';
    this.kind = kind;
    this.status = options.status ?? null;
    this.requestMayHaveBeenProcessed = options.requestMayHaveBeenProcessed ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
    this.validation = options.validation ?? null;
  }
}

/** Statuses the upstream documents as refusals: nothing was created. */
const DOCUMENTED_REFUSALS: Record<number, UpstreamErrorKind> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  422: 'validation',
  429: 'rate_limited',
};

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
  const refusal = DOCUMENTED_REFUSALS[status];
  if (refusal === 'validation') {
    return new UpstreamError('validation', `upstream refused the input (${status})`, {
      status,
      validation: readLaravelValidation(body) ?? {
        message: headers.statusText || 'Unprocessable Content',
        errors: {},
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

/** Accepts `{message, errors: {field: [msg...]}}`; anything else is not the Laravel shape. */
export function readLaravelValidation(body: unknown): LaravelValidationBody | null {
  if (!isPlainObject(body) || !isPlainObject(body.errors)) return null;
  const errors: Record<string, string[]> = {};
  for (const [field, messages] of Object.entries(body.errors)) {
    if (Array.isArray(messages)) {
      errors[field] = messages.filter((m): m is string => typeof m === 'string');
    } else if (typeof messages === 'string') {
      errors[field] = [messages];
    }
  }
  const message =
    typeof body.message === 'string' && body.message.trim() !== ''
      ? body.message
      : 'The given data was invalid.';
  return { message, errors };
}

/** Retry-After is either delta-seconds or an HTTP-date; both become whole seconds from now. */
export function parseRetryAfter(value: string | undefined, now: () => number = Date.now): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now()) / 1000));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
