// A test upstream on loopback that records every request it receives and answers whatever
// a test scripts: any status, headers, body, delay, or a connection reset (before the
// response, or half-way through the body).

import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query as received, e.g. /api/v2/manager/ambassadors/1/challenge-histories */
  url: string;
  headers: IncomingHttpHeaders;
  /** Raw body text ('' when none). */
  body: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
  /** Whether the connection this request came on is still open (to check an abandoned call's socket is closed). */
  socketOpen(): boolean;
}

export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string | number>;
  /** A string is sent as-is; anything else is JSON-encoded. Omit for no body. */
  body?: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
  /** 'before-response': destroy the socket without answering; 'mid-body': send headers and part of the body, then destroy. */
  reset?: 'before-response' | 'mid-body';
  /** Stream this many bytes of filler JSON-ish text after the headers (for oversized bodies). */
  streamBytes?: number;
}

export type Responder = (request: RecordedRequest) => ScriptedResponse | Promise<ScriptedResponse>;

export interface ScriptableUpstream {
  /** Base URL, including /api/v2, to use as UPSTREAM_URL. */
  url: URL;
  origin: string;
  requests: RecordedRequest[];
  /**
   * The gateway's start-up probes (user-agent challenge-gateway-startup-probe, no token), kept
   * apart from `requests` and answered as the API does (401 JSON) unless respondToProbe says otherwise.
   */
  probes: RecordedRequest[];
  respondToProbe(response: ScriptedResponse): void;
  /** Answer every following request with this (or call the function per request). */
  respondWith(response: ScriptedResponse | Responder): void;
  /** Answer the next requests with these, in order, then fall back to respondWith's. */
  queue(...responses: ScriptedResponse[]): void;
  /** Sockets currently open to this upstream (to check the gateway does not leak them). */
  openSockets(): number;
  /** Bytes of scripted bodies actually written to sockets so far. */
  bytesWritten(): number;
  /** Most requests received and not yet answered at one moment, since start or reset (concurrency caps). */
  maxInFlight(): number;
  reset(): void;
  close(): Promise<void>;
}

/** A valid challenge-history body as the upstream documents it (spec example values). */
export function challengeHistoryBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 42,
    ambassador: {
      id_ambassador: 7,
      image: 'https://cdn.example.test/a/7.png',
      full_name: 'Ada Lovelace',
      username: 'ada',
      description: 'Paris store',
      status: 1,
      availability: 'weekends',
      unavailable: false,
      is_absent: true,
      absent_msg: 'Back soon',
      fb_account: 'ada.fb',
      twitter_account: 'ada_tw',
      instagram_account: 'ada.ig',
      linkedIn_account: 'ada-li',
      youtube_account: 'ada-yt',
      online: true,
      last_action_date: '2025-05-04 09:40:00',
    },
    challenge: {
      id: 3,
      titles: [
        { id_i18n_content: 1, lang: 'en_GB', content: 'Hello' },
        { id_i18n_content: 2, lang: 'fr_FR', content: 'Bonjour' },
      ],
      images: [{ id_i18n_content: 3, lang: 'en_GB', content: 'https://cdn.example.test/c/3.png' }],
      descriptions: [{ id_i18n_content: 4, lang: 'de_DE', content: 'Hallo' }],
      points: 42.5,
      proportional_points: true,
      nb_wins: 9,
    },
    message: 'well done',
    score: 12.5,
    points: 42,
    created_at: '2025-05-04T09:42:00Z',
    updated_at: '2025-05-04T09:43:00Z',
    ...overrides,
  };
}

/** A valid GET /manager/challenges/{id} body as the upstream documents it. */
export function challengeBody(id: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    start_date: '2026-01-01T00:00:00Z',
    end_date: '2026-06-30T23:59:59Z',
    active: true,
    challengeable_type: 'order',
    challengeable: { order_attribution: 'coupon', product_sku: `SKU-${id}` },
    points: 100,
    proportional_points: false,
    titles: [{ id_i18n_content: id * 10, lang: 'en_GB', content: `Challenge ${id}` }],
    images: [],
    descriptions: [],
    ...overrides,
  };
}

/** Answers GET /manager/challenges/{id} with challengeBody(id), anything else as `otherwise`. */
export function challengeById(otherwise: ScriptedResponse = { status: 200, body: challengeHistoryBody() }): Responder {
  return (request) => {
    const match = /\/manager\/challenges\/(\d+)$/.exec(request.url);
    return request.method === 'GET' && match ? { status: 200, body: challengeBody(Number(match[1])) } : otherwise;
  };
}

// The gateway's start-up probe (src/app/startup.ts) and the API's answer to it without a token.
const PROBE_USER_AGENT = 'challenge-gateway-startup-probe';
const PROBE_ANSWER: ScriptedResponse = { status: 401, body: { message: 'Unauthorized.' } };

export async function startScriptableUpstream(): Promise<ScriptableUpstream> {
  const requests: RecordedRequest[] = [];
  const probes: RecordedRequest[] = [];
  let probeResponse: ScriptedResponse = PROBE_ANSWER;
  const queued: ScriptedResponse[] = [];
  let fallback: ScriptedResponse | Responder = { status: 200, body: challengeHistoryBody() };
  const sockets = new Set<Socket>();
  let written = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body === '' ? undefined : JSON.parse(body);
      } catch {
        json = undefined;
      }
      const socket = req.socket;
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        json,
        socketOpen: () => sockets.has(socket),
      };
      if (req.headers['user-agent'] === PROBE_USER_AGENT && req.headers.authorization === undefined) {
        probes.push(recorded);
        void answer(req, res, probeResponse).catch(() => res.destroy());
        return;
      }
      requests.push(recorded);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      // Answered, or given up by the client (a gateway deadline): no longer in flight.
      let done = false;
      const settle = () => {
        if (!done) inFlight--;
        done = true;
      };
      res.once('close', settle);
      const script = queued.shift() ?? fallback;
      Promise.resolve(typeof script === 'function' ? script(recorded) : script)
        .then((response) => answer(req, res, response))
        .catch(() => res.destroy())
        .finally(settle);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function answer(req: IncomingMessage, res: ServerResponse, response: ScriptedResponse): Promise<void> {
    if (response.delayMs) {
      await new Promise((resolve) => setTimeout(resolve, response.delayMs));
      if (req.socket.destroyed) return;
    }
    if (response.reset === 'before-response') {
      req.socket.destroy();
      return;
    }
    const status = response.status ?? 200;
    const text =
      response.body === undefined ? '' : typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
    const headers: Record<string, string | number> = {
      ...(typeof response.body === 'string' || response.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...response.headers,
    };
    if (response.streamBytes) {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        while (sent < response.streamBytes! && !res.destroyed) {
          sent += chunk.length;
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      res.on('error', () => {});
      pump();
      return;
    }
    if (response.reset === 'mid-body') {
      res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
      const half = text.slice(0, Math.floor(text.length / 2));
      written += Buffer.byteLength(half);
      res.write(half, () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    res.writeHead(status, { 'content-length': Buffer.byteLength(text), ...headers });
    written += Buffer.byteLength(text);
    res.end(text);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: new URL(`${origin}/api/v2`),
    origin,
    requests,
    probes,
    respondToProbe(response) {
      probeResponse = response;
    },
    respondWith(response) {
      fallback = response;
    },
    queue(...responses) {
      queued.push(...responses);
    },
    openSockets: () => sockets.size,
    bytesWritten: () => written,
    maxInFlight: () => maxInFlight,
    reset() {
      maxInFlight = inFlight;
      requests.length = 0;
      queued.length = 0;
      fallback = { status: 200, body: challengeHistoryBody() };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
