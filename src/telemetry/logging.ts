// telemetry/: logs, metrics and traces: how each request and each upstream call is seen.
//
// Structured logs: one JSON object per line on stdout. Callers pass facts, never headers,
// so the bearer token has no way into a log line.
//
// pino formats the line; stdout is pino's own asynchronous destination (sonic-boom), which
// buffers lines and writes them in batches off the request path: process.stdout.write to a pipe
// is synchronous on Linux, one syscall per line, and cost about 9% of the gateway's CPU under
// load (docs/performance.md). flush() (at shutdown) and pino's exit hook write what is buffered.

import { pino } from 'pino';
import type { DestinationStream } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** A Logger whose buffered lines can be written out before the process exits. */
export interface FlushableLogger extends Logger {
  /** Resolves once every line logged so far has been handed to the operating system. */
  flush(): Promise<void>;
}

// Bytes buffered before a write, and the longest a line waits on a quiet gateway.
const BUFFER_BYTES = 4096;
const FLUSH_EVERY_MS = 250;

// pino.stdTimeFunctions.isoTime's output, formatted once per millisecond rather than once per line
// (under load several lines share a millisecond).
let lastMillis = -1;
let lastTime = '';
function isoTimeOncePerMillisecond(): string {
  const now = Date.now();
  if (now !== lastMillis) {
    lastMillis = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

let stdout: ReturnType<typeof pino.destination> | undefined;
/** One asynchronous destination on fd 1 per process, whatever the number of loggers. */
function stdoutDestination() {
  stdout ??= pino.destination({ dest: 1, sync: false, minLength: BUFFER_BYTES, periodicFlush: FLUSH_EVERY_MS });
  return stdout;
}

export function createLogger({ level = 'info', write }: { level?: LogLevel; write?: (line: string) => void } = {}): FlushableLogger {
  const destination: DestinationStream = write ? { write } : stdoutDestination();
  const log = pino(
    {
      level,
      // The fields this gateway has always written: time (ISO 8601), level (its name), msg.
      base: undefined,
      messageKey: 'msg',
      timestamp: isoTimeOncePerMillisecond,
      formatters: { level: (label) => ({ level: label }) },
      // Fields are written as JSON.stringify writes them: no stack from pino's `err` serializer.
      serializers: { err: (value: unknown) => value },
    },
    destination,
  );
  const at = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) =>
    log[lvl](fields ? boundFields(fields) : {}, boundText(msg));
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    flush: () => (write ? Promise.resolve() : flushStdout()),
  };
}

/**
 * Every log field is bounded here, in one place, whatever its source (operationName, request id,
 * an error message quoting a document: a client could send a megabyte of it): a string longer
 * than MAX_LOG_FIELD_CHARS keeps its first MAX_LOG_FIELD_CHARS characters and says how many were
 * cut; a list keeps its first MAX_LOG_LIST_ITEMS items; nesting deeper than MAX_LOG_DEPTH is cut.
 */
export const MAX_LOG_FIELD_CHARS = 512;
export const MAX_LOG_LIST_ITEMS = 20;
const MAX_LOG_DEPTH = 3;

const cut = (text: string) => `${text.slice(0, MAX_LOG_FIELD_CHARS)}…[cut ${text.length - MAX_LOG_FIELD_CHARS} chars]`;

/** A client's text as a log field or span attribute may hold it: at most MAX_LOG_FIELD_CHARS, marked when cut. */
export const boundText = (text: string): string => (text.length > MAX_LOG_FIELD_CHARS ? cut(text) : text);

/** `fields` itself when every value is within the bounds (the common case: nothing is copied), else a bounded copy. */
function boundFields(fields: Record<string, unknown>): Record<string, unknown> {
  for (const key in fields) {
    const value = fields[key];
    if ((typeof value === 'string' && value.length > MAX_LOG_FIELD_CHARS) || (typeof value === 'object' && value !== null)) {
      return boundValue(fields, 0) as Record<string, unknown>;
    }
  }
  return fields;
}

function boundValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return boundText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_LOG_DEPTH) return '…[cut: nested too deep]';
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_LOG_LIST_ITEMS).map((item) => boundValue(item, depth + 1));
    if (value.length > MAX_LOG_LIST_ITEMS) kept.push(`…[cut ${value.length - MAX_LOG_LIST_ITEMS} items]`);
    return kept;
  }
  // An Error is written as JSON.stringify writes it (its own enumerable fields), like any object.
  const bounded: Record<string, unknown> = {};
  let keys = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (++keys > MAX_LOG_LIST_ITEMS) {
      bounded['…'] = '[cut: more fields]';
      break;
    }
    bounded[boundText(key)] = boundValue((value as Record<string, unknown>)[key], depth + 1);
  }
  return bounded;
}

/** Waits until the buffered lines are written; a pipe cannot fsync (EINVAL) once they are, which is fine. */
function flushStdout(): Promise<void> {
  return new Promise((resolve, reject) =>
    stdoutDestination().flush((error) => (error && (error as NodeJS.ErrnoException).syscall !== 'fsync' ? reject(error) : resolve())),
  );
}

/** Adapts Logger to Yoga's logger, whose arguments may be Errors or anything else. */
export function yogaLogger(logger: Logger) {
  const adapt = (lvl: LogLevel) => (...args: unknown[]) => {
    const [first, ...rest] = args;
    const msg = first instanceof Error ? first.message : String(first);
    const details = rest.map((arg) => (arg instanceof Error ? { name: arg.name, message: arg.message } : arg));
    logger[lvl](msg, details.length > 0 ? { details } : undefined);
  };
  return { debug: adapt('debug'), info: adapt('info'), warn: adapt('warn'), error: adapt('error') };
}
