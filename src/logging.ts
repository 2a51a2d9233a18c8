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
  const at = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) => log[lvl](fields ?? {}, msg);
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    flush: () => (write ? Promise.resolve() : flushStdout()),
  };
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
