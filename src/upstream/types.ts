// The upstream's records as the gateway holds them: camelCase, every field that may be
// missing or malformed in a real answer typed as nullable. Decoding (decode.ts) is the only
// place that turns upstream JSON into these.

export interface I18nContentRecord {
  id: number | null;
  langCode: string | null;
  content: string | null;
}

export interface AmbassadorRecord {
  id: number;
  image: string | null;
  fullName: string | null;
  username: string | null;
  description: string | null;
  status: number | null;
  availability: string | null;
  unavailable: boolean | null;
  isAbsent: boolean | null;
  absentMsg: string | null;
  fbAccount: string | null;
  twitterAccount: string | null;
  instagramAccount: string | null;
  linkedInAccount: string | null;
  youtubeAccount: string | null;
  online: boolean | null;
  lastActionDate: string | null;
}

export interface ChallengeRecord {
  id: number;
  titles: I18nContentRecord[];
  images: I18nContentRecord[];
  descriptions: I18nContentRecord[];
  points: number | null;
  proportionalPoints: boolean | null;
  /** Only in the challenge embedded in a challenge-history answer. */
  nbWins: number | null;
  /** Only in GET /manager/challenges/{id}. */
  startDate: Date | null;
  endDate: Date | null;
  active: boolean | null;
  challengeableType: string | null;
  challengeable: Record<string, unknown> | null;
}

export interface ChallengeHistoryRecord {
  id: number | string;
  ambassador: AmbassadorRecord | null;
  challenge: ChallengeRecord | null;
  message: string | null;
  score: number | null;
  points: number | null;
  createdAt: Date | null;
  updatedAt: Date | null;
}

/** What the gateway sends to POST /manager/ambassadors/{id}/challenge-histories. */
export interface NewChallengeHistory {
  points: number;
  score: number;
  message?: string | null;
  challengeId?: number | null;
}

/** Per-call facts the upstream must receive: the caller's token and correlation headers. */
export interface UpstreamCallOptions {
  token: string;
  /** Extra headers for tracing/correlation (x-request-id, traceparent); never credentials. */
  headers?: Record<string, string>;
  /**
   * performance.now() time by which the caller needs the answer: the call waits for a free
   * connection only while a whole deadline (UPSTREAM_TIMEOUT_MS) still fits before it, and is
   * not sent otherwise. Unset: the wait is bounded by UPSTREAM_QUEUE_TIMEOUT_MS alone.
   */
  answerBy?: number;
  /** Told of each call made with these options, for per-request logs and spans (onResponse observers hear every call). */
  recorder?: UpstreamCallRecorder;
}

export interface UpstreamCallRecorder {
  /** One call begins; the observer returned is told how it ends. */
  upstreamCallStarted(): UpstreamCallObserver;
}

export interface UpstreamCallObserver {
  /** Headers for this call only (a traceparent naming its span). */
  readonly callHeaders?: Record<string, string>;
  upstreamResponded(info: UpstreamResponseInfo): void;
}

/**
 * Per-caller admission before a call is sent (src/ratelimit). The client asks before every call
 * and reports every 429 with a Retry-After; it knows nothing of how callers are counted.
 */
export interface CallerGate {
  /** null: send it. A number: refused unsent, retry after that many seconds. */
  admit(token: string): Promise<number | null> | null;
  /** The upstream answered this caller 429 with Retry-After: refuse its calls until then. */
  upstreamLimited(token: string, retryAfterSeconds: number): void;
}

/** One finished upstream call, as the client tells its observers (metrics, spans, the request's log line). */
export interface UpstreamResponseInfo {
  method: string;
  /** Route template, never the concrete path: ids do not belong in metrics labels. */
  route: string;
  status: number | null;
  durationMs: number;
  /**
   * Why the call failed, for its log line: a transport cause ("refused (ECONNREFUSED)", "reset",
   * "dns", "tls", "timeout") or "status 503: <bounded body excerpt>"; null for a 2xx.
   */
  failure: string | null;
}
