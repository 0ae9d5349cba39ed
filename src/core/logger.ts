/**
 * Logging: levels `off` < `error` < `warn` < `info` < `debug`, set by the client's `logLevel` option
 * or the `AIWIRE_LOG` environment variable (the provider's own, e.g. `OPENAI_LOG`, is read too).
 * Secrets never reach a log line: header values of credential headers are redacted.
 */

/** Log verbosity. Default `warn`. */
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';

/** Where log lines go; `console` by default. Any object with these four methods works (pino, winston). */
export interface Logger {
  error(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  info(message: string, ...rest: unknown[]): void;
  debug(message: string, ...rest: unknown[]): void;
}

const LEVELS: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4 };

/** Header names whose values are secrets. */
const SECRET_HEADERS =
  /^(authorization|proxy-authorization|api-key|x-api-key|x-goog-api-key|cookie|set-cookie)$/i;

/** True for a header whose value must never be logged or put in an error. */
export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.test(name) || /token|secret|api[-_]?key/i.test(name);
}

/** A copy of `headers` with secret values replaced by `***`. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = isSecretHeader(k) ? '***' : v;
  return out;
}

/** Parse a level name; anything unknown gives `undefined`. */
export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  const v = value?.trim().toLowerCase();
  return v && v in LEVELS ? (v as LogLevel) : undefined;
}

/** A logger that forwards to `logger` only at or above `level`. */
export class LevelLogger {
  readonly #rank: number;
  readonly #logger: Logger;

  /** @param level the most verbose level printed. */
  constructor(level: LogLevel, logger: Logger) {
    this.#rank = LEVELS[level];
    this.#logger = logger;
  }

  /** Whether `level` is printed (check before building an expensive message). */
  enabled(level: Exclude<LogLevel, 'off'>): boolean {
    return this.#rank >= LEVELS[level];
  }

  error(message: string, ...rest: unknown[]): void {
    if (this.#rank >= 1) this.#logger.error(`aiwire: ${message}`, ...rest);
  }
  warn(message: string, ...rest: unknown[]): void {
    if (this.#rank >= 2) this.#logger.warn(`aiwire: ${message}`, ...rest);
  }
  info(message: string, ...rest: unknown[]): void {
    if (this.#rank >= 3) this.#logger.info(`aiwire: ${message}`, ...rest);
  }
  debug(message: string, ...rest: unknown[]): void {
    if (this.#rank >= 4) this.#logger.debug(`aiwire: ${message}`, ...rest);
  }
}
