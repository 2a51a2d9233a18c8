// Structured logs: one JSON object per line on stdout. Callers pass facts, never headers,
// so the bearer token has no way into a log line.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger({
  level = 'info',
  write = (line: string) => void process.stdout.write(line),
}: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const min = LEVELS[level];
  const log = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields })}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
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
