// The client for the upstream REST API: runs endpoint descriptors (endpoints.ts) through one send
// path that builds the request, enforces the deadline and the response-size bound, maps statuses
// to UpstreamError and decodes bodies. It never retries
// (a repeated POST would award points twice) and never follows redirects (a redirect could
// carry the bearer token to another origin).
//
// A call's time budget has two parts. Waiting for a free connection (a Semaphore) lasts at
// most queueTimeoutMs; a call still waiting then is not sent, its outcome known. Once it has a
// connection, the deadline (timeoutMs) covers the TCP connect, writing the request and reading
// the whole answer. Whether the request was written to a socket is observed from the pool
// itself (the dispatch handler's onRequestStart), so a call that ends before that is never "may have been processed".

import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import { CircuitBreaker } from './breaker.js';
import type { Admission, BreakerSettings, BreakerTransition, CallHealth } from './breaker.js';
import { expandRoute } from './endpoint.js';
import type { Endpoint, RouteParams } from './endpoint.js';
import { UpstreamError, bodyExcerpt, mapUpstreamStatus, parseRetryAfter, transportCause } from './errors.js';
import { RETRY_MIN_TRY_SHARE, RetryBudget, retryDelayMs } from './retry.js';
import type { TryOutcome } from './retry.js';
import { parseJsonBounded } from './json.js';
import { Semaphore, SlotWaitExpired } from './semaphore.js';
import type { CallerGate, UpstreamCallObserver, UpstreamCallOptions, UpstreamResponseInfo } from './types.js';

export interface UpstreamClientOptions {
  baseUrl: URL;
  /** From the moment a call has a free connection to its complete answer, TCP connect included. */
  timeoutMs: number;
  /** Longest wait for a free connection; a call still waiting then is not sent. Half of timeoutMs when absent. */
  queueTimeoutMs?: number;
  maxResponseBytes: number;
  connections: number;
  /** The origin's circuit breaker (breaker.ts); absent or failures 0: none. */
  breaker?: BreakerSettings;
  /** Told of each breaker state change (one log line, the state metric). */
  onBreakerTransition?: (transition: BreakerTransition) => void;
  /** Extra tries of a GET after a transient failure (retry.ts); 0 or absent: none. A POST is never retried. */
  readRetries?: number;
  /** Told of each retry sent, and of each one the retry budget refused. */
  onReadRetry?: (result: 'sent' | 'budget_spent') => void;
  /** Per-caller admission (src/ratelimit), asked before every call; told of every 429 with Retry-After. */
  callerGate?: CallerGate;
}

type Observer = (info: UpstreamResponseInfo) => void;

interface RawResponse {
  status: number;
  statusText: string;
  headers: Dispatcher.ResponseData['headers'];
  body: unknown;
  /** The body's first bytes, kept for a non-2xx answer's log line only. */
  excerpt?: Buffer;
}

/** What is known of a call in progress: the answer's status, whether its request reached a socket. */
interface CallProgress {
  /** This try's deadline: UPSTREAM_TIMEOUT_MS, or less for a read's retry (what is left of the read's). */
  timeoutMs: number;
  status: number | null;
  written: boolean;
  timedOut: boolean;
  failure: string | null;
}

const NOT_JSON = Symbol('not-json');

/** The call's deadline passed: before the request was written (the connect did not complete in time) or after. */
class DeadlinePassed extends Error {}

// undici's own timeouts. Its connect timeout is the deadline too (see the pool's options), so it
// may end a stalled connect a moment before the deadline's timer does: the same failure.
const UNDICI_TIMEOUTS = [undiciErrors.ConnectTimeoutError, undiciErrors.HeadersTimeoutError, undiciErrors.BodyTimeoutError];

export class UpstreamClient {
  private readonly pool: Pool;
  /** At most one call per connection handed to the pool; the others wait here, unsent. */
  private readonly slots: Semaphore;
  private readonly basePath: string;
  private readonly queueTimeoutMs: number;
  private readonly observers = new Set<Observer>();
  /** Null when off: the hot path then pays one null check. */
  readonly breaker: CircuitBreaker | null;
  /** Null when UPSTREAM_READ_RETRIES is 0. */
  private readonly retryBudget: RetryBudget | null;

  constructor(private readonly options: UpstreamClientOptions) {
    this.basePath = options.baseUrl.pathname.replace(/\/+$/, '');
    this.queueTimeoutMs = options.queueTimeoutMs ?? Math.floor(options.timeoutMs / 2);
    this.slots = new Semaphore(options.connections);
    const breaker = options.breaker;
    this.breaker = breaker && breaker.failures > 0 ? new CircuitBreaker(breaker, options.onBreakerTransition ?? (() => {})) : null;
    this.retryBudget = (options.readRetries ?? 0) > 0 ? new RetryBudget() : null;
    this.pool = new Pool(options.baseUrl.origin, {
      connections: options.connections,
      pipelining: 1, // a POST is never pipelined behind another request
      keepAliveTimeout: 4_000,
      // Within the deadline, which also covers the connect (undici's own default is 10 s).
      connectTimeout: options.timeoutMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** Calls waiting for a free connection now. */
  get queuedCalls(): number {
    return this.slots.queued;
  }

  /** Registers a listener for finished upstream calls (logging, metrics, tracing). */
  onResponse(observer: Observer): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * One call to `endpoint`: its answer decoded, a 404 as the endpoint says, any other failure an
   * UpstreamError. The parameters are checked (positive int32) before anything is sent.
   */
  async call<Route extends string, Input, Result>(
    endpoint: Endpoint<Route, Input, Result>,
    params: RouteParams<Route>,
    input: Input,
    call: UpstreamCallOptions,
  ): Promise<Result> {
    const path = expandRoute(endpoint.route, params);
    const body = endpoint.encode ? JSON.stringify(endpoint.encode(input)) : undefined;
    const response =
      endpoint.method === 'GET' && this.retryBudget
        ? await this.sendRead(path, endpoint.route, call)
        : await this.send(endpoint.method, path, endpoint.route, call, body);
    if (response.status === 404) return endpoint.notFound(params);
    if (response.status < 200 || response.status >= 300) throw this.statusError(response);
    const record = endpoint.decode(response.body, params, input);
    if (record === null) {
      throw new UpstreamError('bad_response', `upstream 2xx body is not a usable ${endpoint.record}`, {
        status: response.status,
        requestMayHaveBeenProcessed: endpoint.method !== 'GET',
      });
    }
    return record;
  }

  /** Waits for calls in flight, then closes every connection. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Aborts calls in flight and closes every connection now. */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }

  private statusError(response: RawResponse): UpstreamError {
    return mapUpstreamStatus(response.status, response.body, { retryAfter: retryAfterHeader(response), statusText: response.statusText });
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    route: string,
    call: UpstreamCallOptions,
    body?: string,
    /** A read's retry: performance.now() time by which this try must end (its deadline shortened to fit). */
    endBy?: number,
  ): Promise<RawResponse> {
    const gate = this.options.callerGate;
    const waiting = gate ? gate.admit(call.token) : null;
    if (waiting !== null) {
      const seconds = await waiting;
      if (seconds !== null) throw callerLimited(seconds);
    }
    const admission: Admission = this.breaker ? this.breaker.admit(method) : 'normal';
    if (admission === 'refused') throw this.circuitOpen();
    const started = performance.now();
    const progress: CallProgress = { timeoutMs: this.options.timeoutMs, status: null, written: false, timedOut: false, failure: null };
    let health: CallHealth = 'answered';
    const callObserver = call.recorder?.upstreamCallStarted();
    const request: Dispatcher.DispatchOptions = {
      method,
      path: this.basePath + path,
      headers: {
        ...call.headers,
        ...callObserver?.callHeaders,
        accept: 'application/json',
        authorization: `Bearer ${call.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body,
    };
    // With a breaker, the slot goes to the next call only once this call's outcome is counted:
    // a call queued behind one that opens the circuit then sees it open.
    let releaseAfterSettle: (() => void) | null = null;
    try {
      const release = await this.slots.acquire(endBy === undefined ? this.queueBudget(call, started) : Math.min(this.queueTimeoutMs, endBy - started));
      if (endBy !== undefined) progress.timeoutMs = Math.min(progress.timeoutMs, endBy - performance.now());
      // A retry whose read deadline passed while it waited for a connection: not sent.
      if (progress.timeoutMs <= 0) {
        release();
        health = 'not_sent';
        throw new SlotWaitExpired(performance.now() - started);
      }
      // The circuit opened while this call waited for a connection: it is not sent either.
      if (admission === 'normal' && this.breaker !== null && this.breaker.state !== 'closed') {
        release();
        health = 'not_sent';
        progress.failure = 'circuit open: not sent';
        throw this.circuitOpen();
      }
      if (this.breaker !== null) releaseAfterSettle = bothDone(release);
      const response = await this.exchange(request, progress, releaseAfterSettle ?? release);
      if (response.status < 200 || response.status >= 300) {
        progress.failure = `status ${response.status}: ${bodyExcerpt(response.excerpt, call.token)}`;
        if (response.status >= 500) health = 'unwell';
        if (response.status === 429 && gate) {
          const seconds = retryAfterOf(response);
          if (seconds !== null) gate.upstreamLimited(call.token, seconds);
        }
      }
      return response;
    } catch (error) {
      if (error instanceof UpstreamError) {
        progress.failure ??= `status ${progress.status ?? 'none'}: ${error.message}`;
        throw error;
      }
      health = error instanceof SlotWaitExpired ? 'not_sent' : 'unwell';
      const failure = this.transportError(error, method, progress);
      progress.failure = failure.message;
      throw failure;
    } finally {
      this.breaker?.settle(admission, health);
      releaseAfterSettle?.();
      this.notify({ method, route, status: progress.status, durationMs: performance.now() - started, failure: progress.failure }, callObserver);
    }
  }

  /**
   * A GET, tried again after a transient failure (retry.ts) at most readRetries times, while the
   * retry budget allows and within one read deadline: the caller's answerBy, or UPSTREAM_TIMEOUT_MS
   * from the first try's start. A retry is made only when, after its backoff, at least
   * RETRY_MIN_TRY_SHARE of UPSTREAM_TIMEOUT_MS is left, and its own deadline is what is left. The
   * last outcome is the answer.
   */
  private async sendRead(path: string, route: string, call: UpstreamCallOptions): Promise<RawResponse> {
    const budget = this.retryBudget!;
    const retries = this.options.readRetries!;
    const readBy = call.answerBy ?? performance.now() + this.options.timeoutMs;
    const minTryMs = RETRY_MIN_TRY_SHARE * this.options.timeoutMs;
    for (let retry = 0; ; retry++) {
      budget.recordCall();
      let response: RawResponse | undefined;
      let outcome: TryOutcome | null = null;
      try {
        response = await this.send('GET', path, route, call, undefined, retry === 0 ? undefined : readBy);
        if (response.status >= 500 || response.status === 429) outcome = { status: response.status, retryAfterSeconds: retryAfterOf(response) };
      } catch (error) {
        outcome = { error };
      }
      const delay = outcome && retry < retries ? retryDelayMs(outcome, retry) : null;
      if (delay === null || performance.now() + delay + minTryMs > readBy || !this.takeRetry()) {
        if (outcome && 'error' in outcome) throw outcome.error;
        return response!;
      }
      await sleep(delay);
    }
  }

  private takeRetry(): boolean {
    const taken = this.retryBudget!.tryTakeRetry();
    this.options.onReadRetry?.(taken ? 'sent' : 'budget_spent');
    return taken;
  }

  /** The breaker's refusal: nothing was sent, safe to retry once it lets calls through again. */
  private circuitOpen(): UpstreamError {
    const retryInMs = this.breaker!.retryInMs;
    return new UpstreamError('unavailable', 'circuit open: the upstream is failing; the request was not sent', {
      circuitOpen: true,
      requestMayHaveBeenProcessed: false,
      retryAfterSeconds: Math.max(1, Math.ceil(retryInMs / 1000)),
    });
  }

  /**
   * How long a call may wait for a free connection: queueTimeoutMs, and no longer than leaves
   * a whole deadline before the caller's `answerBy`.
   */
  private queueBudget(call: UpstreamCallOptions, now: number): number {
    if (call.answerBy === undefined) return this.queueTimeoutMs;
    return Math.min(this.queueTimeoutMs, call.answerBy - this.options.timeoutMs - now);
  }

  /**
   * One request on a free connection, under the deadline; the slot is released when the pool is
   * done with it. A raw dispatch handler rather than undici's request(): it sees the write
   * happen (onRequestStart on a connected socket, right before the write), collects the body
   * without a stream and enforces maxResponseBytes as the bytes arrive.
   */
  private exchange(request: Dispatcher.DispatchOptions, progress: CallProgress, release: () => void): Promise<RawResponse> {
    const limit = this.options.maxResponseBytes;
    const mayHaveBeenProcessed = request.method !== 'GET';
    return new Promise<RawResponse>((resolve, reject) => {
      let controller: Dispatcher.DispatchController | null = null;
      let abortReason: Error | null = null;
      let headers: RawResponse['headers'] = {};
      const chunks: Buffer[] = [];
      let size = 0;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        release();
      };
      const abort = (reason: Error) => {
        abortReason ??= reason;
        controller?.abort(reason);
      };
      const tooLarge = () =>
        new UpstreamError('bad_response', `upstream body exceeds ${limit} bytes`, { status: progress.status, requestMayHaveBeenProcessed: mayHaveBeenProcessed });
      const timer = setTimeout(() => {
        progress.timedOut = true;
        // A request still unwritten at the deadline is answered now, as not sent: the pool only
        // notices the abort once the connect ends (by its connect timeout, the same deadline).
        const passed = new DeadlinePassed();
        if (!progress.written) reject(passed);
        abort(passed);
      }, progress.timeoutMs);
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(started) {
          controller = started;
          if (abortReason) started.abort(abortReason);
          else progress.written = true;
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          progress.status = statusCode;
          headers = responseHeaders as RawResponse['headers'];
          const declared = Number(headers['content-length']);
          if (Number.isFinite(declared) && declared > limit) abort(tooLarge());
        },
        onResponseData(_controller, chunk) {
          size += chunk.length;
          if (size > limit) abort(tooLarge()); // stop reading: the rest of an oversized body is never pulled
          else chunks.push(chunk);
        },
        onResponseEnd() {
          finish();
          const status = progress.status!;
          const excerpt = status >= 200 && status < 300 ? undefined : firstBytes(chunks, 4096);
          resolve({ status, statusText: STATUS_CODES[status] ?? '', headers, body: parseBody(chunks, size), excerpt });
        },
        onResponseError(_controller, error) {
          finish();
          reject(error);
        },
      };
      this.pool.dispatch(request, handler);
    });
  }

  /**
   * Maps a failure without an HTTP answer. Only a request written to a socket may have been
   * processed (and only a POST matters); every failure before that has a known outcome.
   */
  private transportError(error: unknown, method: string, progress: CallProgress): UpstreamError {
    const sent = { status: progress.status, requestMayHaveBeenProcessed: progress.written && method !== 'GET', cause: error };
    if (error instanceof SlotWaitExpired) {
      return new UpstreamError('timeout', `queue timeout: ${error.message}; the request was not sent`, sent);
    }
    if (progress.timedOut) {
      return new UpstreamError('timeout', `timeout: no complete upstream answer within ${Math.round(progress.timeoutMs)} ms${progress.written ? '' : ' (connect)'}`, sent);
    }
    if (UNDICI_TIMEOUTS.some((timeout) => error instanceof timeout)) {
      return new UpstreamError('timeout', `timeout: upstream answer timed out (${transportCause(error)})`, sent);
    }
    return new UpstreamError('unavailable', `${transportCause(error)}: upstream unreachable`, sent);
  }

  private notify(info: UpstreamResponseInfo, callObserver: UpstreamCallObserver | undefined): void {
    callObserver?.upstreamResponded(info);
    for (const observer of this.observers) observer(info);
  }
}

/** The body as JSON (depth-bounded), or NOT_JSON when empty or not JSON. */
function parseBody(chunks: Buffer[], size: number): unknown {
  if (size === 0) return NOT_JSON;
  try {
    return parseJsonBounded(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  } catch {
    return NOT_JSON;
  }
}

function retryAfterHeader(response: RawResponse): string | undefined {
  const value = response.headers['retry-after'];
  return Array.isArray(value) ? value[0] : value;
}

function retryAfterOf(response: RawResponse): number | null {
  return parseRetryAfter(retryAfterHeader(response));
}

/** The per-caller limit's refusal: nothing was sent. */
function callerLimited(retryAfterSeconds: number): UpstreamError {
  return new UpstreamError('rate_limited', 'refused by the gateway\'s per-caller limit; the request was not sent', {
    limitedByGateway: true,
    retryAfterSeconds,
    requestMayHaveBeenProcessed: false,
  });
}

/** At least the first `count` bytes of a body in chunks (all of it when shorter), copying no more than needed. */
function firstBytes(chunks: Buffer[], count: number): Buffer | undefined {
  if (chunks.length <= 1) return chunks[0];
  const taken: Buffer[] = [];
  let size = 0;
  for (const chunk of chunks) {
    if (size >= count) break;
    taken.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(taken, size);
}

/** A function that calls `done` on its second call: the later of two events. */
function bothDone(done: () => void): () => void {
  let calls = 0;
  return () => {
    if (++calls === 2) done();
  };
}
