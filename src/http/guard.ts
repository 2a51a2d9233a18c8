// http/: the node:http layer before both paths: timeouts, connection and body bounds, exact paths, and its refusals.
//
// The node:http layer in front of both paths (the fast lane and Yoga): the server's own time and
// connection bounds, coded answers to what Node refuses itself (408, 431, 400), the time and
// bytes of answers not yet drained (RESPONSE_TIMEOUT_MS, MAX_INFLIGHT_RESPONSE_BYTES), and checks
// on the raw request before anything reads its body: only the exact paths the gateway serves,
// only loopback Host names when asked (the sandbox), and a bound on the request-body bytes held
// across all connections at once. Each refusal is logged and counted like any other request.

import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpLimits } from '../app/config.js';
import { refusalBody } from './refusal.js';
import type { Refusal } from './refusal.js';
import type { RequestObserver } from '../telemetry/observers.js';
import { RequestTelemetry } from '../telemetry/request-telemetry.js';
import { nodeHeaders } from '../telemetry/tracing.js';
import { ErrorCode } from '../errors/registry.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Every path the gateway serves, exactly: no trailing slash, dot segment or doubled slash. */
export const SERVED_PATHS: ReadonlySet<string> = new Set(['/graphql', '/health', '/ready', '/metrics']);
/** GraphiQL's own assets, if the gateway serves them: segments of word characters with inner dots only (no `..`, no `%`). */
export const GRAPHIQL_ASSET_PATH = /^\/graphiql(?:\/\w[\w-]*(?:\.[\w-]+)*)+$/;
/** localhost, 127.0.0.0/8 or [::1], with any port: the names a DNS-rebinding page cannot use. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}|\[::1\])(?::\d{1,5})?$/i;

// Node checks headersTimeout and requestTimeout only this often (its default is 30 s).
const TIMEOUT_CHECK_INTERVAL_MS = 500;
/** Seconds a client refused for the body bound is told to wait. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/** node:http server options for the time bounds, enforced within TIMEOUT_CHECK_INTERVAL_MS of expiry. */
export function serverOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
}

// What Node refuses before a request exists, as Node answers it, with a coded body.
const CLIENT_ERRORS: Record<string, Refusal> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: ErrorCode.REQUEST_TIMEOUT, message: 'The request was not received in time.' },
  HPE_HEADER_OVERFLOW: { status: 431, code: ErrorCode.REQUEST_HEADERS_TOO_LARGE, message: 'The request headers are too large.' },
};
const MALFORMED_REQUEST: Refusal = { status: 400, code: ErrorCode.BAD_REQUEST, message: 'The request is not valid HTTP/1.1.' };

/** The server's 'clientError' listener: answers when nothing was written on the connection yet, then closes it. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0 && error.code !== 'ECONNRESET') {
    const { status, code, message } = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED_REQUEST;
    const body = refusalBody(code, message);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Bodies up to this size may use the whole bound: GraphQL requests are (most under 2 KiB). With
 * the default bounds, MAX_CONNECTIONS (1000) slow small bodies hold at most 15.6 MiB, less than
 * what larger bodies leave free, so only the connection bound can refuse a small body.
 */
const SMALL_BODY_BYTES = 16 * 1024;
/**
 * Larger bodies together hold at most this share of the bound: without it, 64 connections
 * declaring 1 MiB and stalling held all 64 MiB, and every GraphQL request was refused with 503
 * for REQUEST_TIMEOUT_MS.
 */
const LARGE_BODIES_SHARE = 0.75;

/** Request-body bytes declared by the requests being served, bounded in total (MAX_INFLIGHT_BODY_BYTES). */
export class InflightBodies {
  private held = 0;
  private heldLarge = 0;
  private readonly maxLargeBytes: number;
  constructor(private readonly maxBytes: number) {
    this.maxLargeBytes = Math.floor(maxBytes * LARGE_BODIES_SHARE);
  }

  get bytes(): number {
    return this.held;
  }

  /**
   * Holds `bytes` until the response closes; false, holding nothing, when that would pass the
   * bound, or for a large body the large bodies' share (one large body alone may use the whole
   * bound, so that a bound equal to MAX_REQUEST_BODY_BYTES still serves the largest body).
   */
  hold(bytes: number, res: ServerResponse): boolean {
    const large = bytes > SMALL_BODY_BYTES;
    if (this.held + bytes > this.maxBytes) return false;
    if (large && this.heldLarge > 0 && this.heldLarge + bytes > this.maxLargeBytes) return false;
    const largeBytes = large ? bytes : 0;
    this.held += bytes;
    this.heldLarge += largeBytes;
    res.once('close', () => {
      this.held -= bytes;
      this.heldLarge -= largeBytes;
    });
    return true;
  }
}

/**
 * Answers written but not yet drained by their clients (MAX_INFLIGHT_RESPONSE_BYTES), and the time
 * each has to drain (RESPONSE_TIMEOUT_MS). Node keeps what a socket cannot take in the process's
 * memory, for as long as the client does not read, and has no timeout for it: a client that sends
 * a request and never reads would hold its answer, its connection (a MAX_CONNECTIONS slot) and its
 * request body's share of MAX_INFLIGHT_BODY_BYTES for good. An answer the socket takes at once
 * (the common case) costs nothing here: no timer, no bytes counted.
 */
export class UndrainedAnswers {
  private held = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly timeoutMs: number,
  ) {}

  /** Bytes of answers written and not drained yet, as counted when each was last written to. */
  get bytes(): number {
    return this.held;
  }

  /** Past MAX_INFLIGHT_RESPONSE_BYTES: new requests are refused until answers drain. */
  get full(): boolean {
    return this.held > this.maxBytes;
  }

  /**
   * Watches one answer: each time it is written to and bytes stay queued in the process, they are
   * counted, and the first time, its connection gets RESPONSE_TIMEOUT_MS to drain them or is
   * destroyed (its 'close' then releases everything the request held).
   */
  watch(res: ServerResponse): void {
    let counted = 0;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const recount = () => {
      if (settled) return;
      const queued = res.writableLength;
      this.held += queued - counted;
      counted = queued;
      if (queued > 0 && timer === undefined) {
        timer = setTimeout(() => res.destroy(), this.timeoutMs);
        timer.unref();
      }
    };
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.held -= counted;
      counted = 0;
    };
    const { write, end } = res;
    res.write = function (this: ServerResponse, ...args: Parameters<ServerResponse['write']>) {
      const flushed = write.apply(this, args);
      recount();
      return flushed;
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, ...args: Parameters<ServerResponse['end']>) {
      const ended = end.apply(this, args);
      recount();
      return ended;
    } as ServerResponse['end'];
    // Partial drains are not recounted: an answer's bytes count until it is all out, or its connection
    // gone ('close' follows 'finish' on every response).
    res.once('close', settle);
  }
}

/** Paths served while answers are undrained past the bound: the probes and metrics, small and needed most then. */
const PROBE_PATHS: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

export interface HttpGuardOptions {
  /** Bodies declared longer are left to the body-limit plugin's 413, which never reads them. */
  maxRequestBodyBytes: number;
  inflightBodies: InflightBodies;
  undrainedAnswers: UndrainedAnswers;
  /** Refuse any Host that is not a loopback name (the sandbox: its GraphiQL page holds a token). */
  loopbackHostsOnly: boolean;
  /** The request observers (telemetry/observers.ts, run as one): a refusal is logged and counted like any request. */
  observe: Required<RequestObserver>;
}

/**
 * Wraps the server's handler with the three checks; a refused request never reaches it. Serve it
 * for 'checkContinue' too, so a client that sends `Expect: 100-continue` is refused before it
 * sends its body (Node would otherwise answer 100 Continue first).
 */
export function withHttpGuard(options: HttpGuardOptions, handler: NodeHandler): NodeHandler {
  const { maxRequestBodyBytes, inflightBodies, undrainedAnswers, loopbackHostsOnly } = options;
  const refuse = refuser(options);
  return (req, res) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    if (!SERVED_PATHS.has(path) && !GRAPHIQL_ASSET_PATH.test(path)) {
      return refuse(req, res, { status: 404, code: ErrorCode.NOT_FOUND, message: 'Not found: the gateway serves /graphql, /health, /ready and /metrics.' });
    }
    if (loopbackHostsOnly && !LOOPBACK_HOST.test(req.headers.host ?? '')) {
      return refuse(req, res, { status: 403, code: ErrorCode.HOST_NOT_ALLOWED, message: 'The sandbox answers only requests addressed to localhost.' });
    }
    undrainedAnswers.watch(res);
    if (undrainedAnswers.full && !PROBE_PATHS.has(path)) {
      return refuse(req, res, {
        status: 503,
        code: ErrorCode.SERVER_BUSY,
        message: 'Too many answers are waiting for their clients to read them; retry shortly.',
        headers: { 'retry-after': String(BUSY_RETRY_AFTER_SECONDS) },
      });
    }
    const declared = Number(req.headers['content-length']);
    if (declared > 0 && declared <= maxRequestBodyBytes && !inflightBodies.hold(declared, res)) {
      return refuse(req, res, {
        status: 503,
        code: ErrorCode.SERVER_BUSY,
        message: 'Too many request bodies are being received at once; retry shortly.',
        headers: { 'retry-after': String(BUSY_RETRY_AFTER_SECONDS) },
      });
    }
    // A client that waits for 100 Continue (the server's 'checkContinue' listener) sends its body only now.
    if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
    handler(req, res);
  };
}

function refuser({ observe }: Pick<HttpGuardOptions, 'observe'>) {
  return (req: IncomingMessage, res: ServerResponse, { status, code, message, headers = {} }: Refusal): void => {
    const method = req.method ?? 'GET';
    const requestHeaders = nodeHeaders(req.headers);
    const telemetry = new RequestTelemetry(requestHeaders);
    observe.onStart(telemetry, { method, headers: requestHeaders });
    telemetry.errorCode = code;
    const body = refusalBody(code, message);
    // A body left unread is not read: the connection closes after the answer.
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const responseHeaders: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...(hasBody ? { connection: 'close' } : {}),
      ...headers,
    };
    const path = (req.url ?? '/').split('?')[0]!.slice(0, 256);
    observe.onEnd(telemetry, { method, path, status, setHeader: (name, value) => (responseHeaders[name] = value) });
    res.writeHead(status, responseHeaders);
    res.end(body);
  };
}
