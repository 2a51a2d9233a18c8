// The typed client for the upstream REST API: builds requests, enforces the deadline and the
// response-size bound, maps statuses to UpstreamError and decodes bodies. It never retries
// (a repeated POST would award points twice) and never follows redirects (a redirect could
// carry the bearer token to another origin).

import { STATUS_CODES } from 'node:http';
import { Pool, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import { decodeChallenge, decodeChallengeHistory } from './decode.js';
import { UpstreamError, mapUpstreamStatus } from './errors.js';
import type {
  ChallengeHistoryRecord,
  ChallengeRecord,
  NewChallengeHistory,
  UpstreamCallObserver,
  UpstreamCallOptions,
} from './types.js';

export interface UpstreamClientOptions {
  baseUrl: URL;
  timeoutMs: number;
  maxResponseBytes: number;
  connections: number;
}

export interface UpstreamResponseInfo {
  method: string;
  /** Route template, never the concrete path: ids do not belong in metrics labels. */
  route: string;
  status: number | null;
  durationMs: number;
}

type Observer = (info: UpstreamResponseInfo) => void;

interface RawResponse {
  status: number;
  statusText: string;
  headers: Dispatcher.ResponseData['headers'];
  body: unknown;
}

const NOT_JSON = Symbol('not-json');

// Errors raised before any byte of the request could have reached the upstream.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

export class UpstreamClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly observers = new Set<Observer>();

  constructor(private readonly options: UpstreamClientOptions) {
    this.basePath = options.baseUrl.pathname.replace(/\/+$/, '');
    this.pool = new Pool(options.baseUrl.origin, {
      connections: options.connections,
      pipelining: 1, // a POST is never pipelined behind another request
      keepAliveTimeout: 4_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** Registers a listener for finished upstream calls (logging, metrics, tracing). */
  onResponse(observer: Observer): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** POST /manager/ambassadors/{id}/challenge-histories */
  async addChallengeHistory(
    ambassadorId: number,
    input: NewChallengeHistory,
    call: UpstreamCallOptions,
  ): Promise<ChallengeHistoryRecord> {
    const body: Record<string, unknown> = { points: input.points, score: input.score };
    if (input.message != null) body.message = input.message;
    if (input.challengeId != null) body.challenge_id = input.challengeId;

    const response = await this.send(
      'POST',
      `/manager/ambassadors/${ambassadorId}/challenge-histories`,
      '/manager/ambassadors/{id}/challenge-histories',
      call,
      JSON.stringify(body),
    );
    if (response.status < 200 || response.status >= 300) {
      throw this.statusError(response);
    }
    const record = decodeChallengeHistory(response.body, {
      ambassadorId,
      challengeId: input.challengeId ?? null,
    });
    if (!record) {
      throw new UpstreamError('bad_response', 'upstream 2xx body has no usable challenge history', {
        status: response.status,
        requestMayHaveBeenProcessed: true,
      });
    }
    return record;
  }

  /** GET /manager/challenges/{id}; null when the upstream says 404. */
  async getChallenge(id: number, call: UpstreamCallOptions): Promise<ChallengeRecord | null> {
    const response = await this.send('GET', `/manager/challenges/${id}`, '/manager/challenges/{id}', call);
    if (response.status === 404) return null;
    if (response.status < 200 || response.status >= 300) throw this.statusError(response);
    const record = decodeChallenge(response.body, id);
    if (!record) {
      throw new UpstreamError('bad_response', 'upstream 2xx body is not a challenge', { status: response.status });
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
    const retryAfter = response.headers['retry-after'];
    return mapUpstreamStatus(response.status, response.body, {
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      statusText: response.statusText,
    });
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    route: string,
    call: UpstreamCallOptions,
    body?: string,
  ): Promise<RawResponse> {
    const started = performance.now();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.options.timeoutMs);
    const signal = call.signal ? AbortSignal.any([deadline.signal, call.signal]) : deadline.signal;
    let status: number | null = null;
    const callObserver = call.recorder?.upstreamCallStarted();
    try {
      const response = await this.pool.request({
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
        signal,
      });
      status = response.statusCode;
      const json = await this.readJson(response, method);
      return { status, statusText: STATUS_CODES[status] ?? '', headers: response.headers, body: json };
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw this.transportError(error, method, deadline.signal.aborted, status);
    } finally {
      clearTimeout(timer);
      this.notify({ method, route, status, durationMs: performance.now() - started }, callObserver);
    }
  }

  /** Reads at most maxResponseBytes, then parses JSON; a non-JSON body becomes NOT_JSON. */
  private async readJson(response: Dispatcher.ResponseData, method: string): Promise<unknown> {
    const limit = this.options.maxResponseBytes;
    const declared = Number(response.headers['content-length']);
    const tooLarge = () => {
      response.body.destroy(); // stop reading: the rest of an oversized body is never pulled
      return new UpstreamError('bad_response', `upstream body exceeds ${limit} bytes`, {
        status: response.statusCode,
        requestMayHaveBeenProcessed: method !== 'GET',
      });
    };
    if (Number.isFinite(declared) && declared > limit) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk as Buffer);
    }
    if (size === 0) return NOT_JSON;
    try {
      return JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as unknown;
    } catch {
      return NOT_JSON;
    }
  }

  private transportError(error: unknown, method: string, timedOut: boolean, status: number | null): UpstreamError {
    const mayHaveBeenProcessed = method !== 'GET';
    if (timedOut) {
      return new UpstreamError('timeout', `no complete upstream answer within ${this.options.timeoutMs} ms`, {
        status,
        requestMayHaveBeenProcessed: mayHaveBeenProcessed,
        cause: error,
      });
    }
    if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
      return new UpstreamError('timeout', 'upstream answer timed out', {
        status,
        requestMayHaveBeenProcessed: mayHaveBeenProcessed,
        cause: error,
      });
    }
    const code = (error as { code?: string } | null)?.code ?? '';
    return new UpstreamError('unavailable', `upstream unreachable (${code || 'transport error'})`, {
      status,
      requestMayHaveBeenProcessed: mayHaveBeenProcessed && !NOT_SENT_CODES.has(code),
      cause: error,
    });
  }

  private notify(info: UpstreamResponseInfo, callObserver: UpstreamCallObserver | undefined): void {
    callObserver?.upstreamResponded(info);
    for (const observer of this.observers) observer(info);
  }
}
