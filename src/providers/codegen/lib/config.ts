/**
 * The Codegen client's settings from the environment (the seed's `CODEGEN_*` variables, in its units)
 * and the Codegen side of the presets. Core reads the variables every provider shares
 * (`CODEGEN_PRESET`, `CODEGEN_TIMEOUT_MS`, `CODEGEN_MAX_RETRIES`, `CODEGEN_CACHE_TTL_MS`,
 * `CODEGEN_METRICS`, `CODEGEN_LOG`: see core/presets.ts); this adds the seed's:
 *
 * | variable | option | unit, default |
 * |---|---|---|
 * | `CODEGEN_API_TOKEN` | `apiToken` | required |
 * | `CODEGEN_ORG_ID` | `orgId` | a whole number; none |
 * | `CODEGEN_BASE_URL` | `baseURL` | `https://api.codegen.com` |
 * | `CODEGEN_TIMEOUT` | `timeout` | seconds (the option is ms) |
 * | `CODEGEN_MAX_RETRIES` | `maxRetries` | (core) |
 * | `CODEGEN_RATE_LIMIT_REQUESTS` + `CODEGEN_RATE_LIMIT_WINDOW` | `rateLimit.requestsPerMinute` | requests per window of seconds (window default 60) |
 * | `CODEGEN_ENABLE_CACHING` + `CODEGEN_CACHE_TTL` | `cache` | `true`/`false`; TTL in seconds, default 300 |
 * | `CODEGEN_LOG_LEVEL` | `logLevel` | `DEBUG`, `INFO`, `WARNING`/`WARN`, `ERROR`, `CRITICAL`, `OFF` |
 *
 * Precedence, per option: the option given to `new Codegen()`, then the environment, then the preset.
 * The rate limit is the engine's GCRA limiter: the window's average rate, with bursts of one second's
 * worth (not a sliding window of `requests` at once).
 */
import { AiwireError } from '../../../core/errors.js';
import type { LogLevel } from '../../../core/logger.js';
import type { PresetName } from '../../../core/presets.js';
import type { RateLimitOptions } from '../../../core/resilience-options.js';
import type { CacheOptions } from '../../../core/reuse.js';

/** What the Codegen presets add to core's (`PRESETS`), after the seed's meaning. */
export interface CodegenPresetExtras {
  rateLimit?: RateLimitOptions | false | undefined;
  cache?: CacheOptions | undefined;
}

/**
 * The Codegen side of each preset. development: a lower client-side limit (30 requests a minute), no
 * cache; production: Codegen's documented read budget (60 requests per 30 s = 120 a minute) and a
 * 60 s GET cache (`waitForCompletion` and the health checks never read from it); testing: no limit, no
 * cache. Core's part (timeouts, retries, log level) is in core/presets.ts.
 */
export const CODEGEN_PRESETS: Readonly<Record<PresetName, Readonly<CodegenPresetExtras>>> = Object.freeze({
  development: Object.freeze({ rateLimit: { requestsPerMinute: 30 } }),
  production: Object.freeze({ rateLimit: { requestsPerMinute: 120 }, cache: { ttlMs: 60_000 } }),
  testing: Object.freeze({ rateLimit: false as const }),
});

/** The options this module fills in. */
export interface CodegenEnvOptions {
  apiToken?: string | undefined;
  orgId?: number | string | undefined;
  baseURL?: string | null | undefined;
  timeout?: number | undefined;
  rateLimit?: RateLimitOptions | false | undefined;
  cache?: CacheOptions | undefined;
  logLevel?: LogLevel | undefined;
  metrics?: boolean | undefined;
  preset?: PresetName | undefined;
}

type Env = Record<string, string | undefined>;

const set = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v ? v : undefined;
};

function positive(env: Env, name: string, what: string): number | undefined {
  const text = set(env, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    throw new AiwireError(`${name} must be ${what} > 0, got ${JSON.stringify(env[name])}`);
  }
  return n;
}

const LOG_LEVELS: Record<string, LogLevel> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'error',
  off: 'off',
};

/**
 * `options` with the seed's `CODEGEN_*` variables and the Codegen preset extras filled in where the
 * caller gave none (see the file's header). Metrics are on unless `metrics: false` or
 * `CODEGEN_METRICS=0` (they feed `getStats()`).
 * @throws AiwireError for an unreadable variable (a non-numeric timeout, an org id that is not a whole
 *   number, `CODEGEN_ENABLE_CACHING` other than true/false/1/0, an unknown log level or preset).
 */
export function codegenEnvOptions<O extends CodegenEnvOptions>(
  options: O,
  env: Env = process.env,
): O & CodegenEnvOptions {
  const out: CodegenEnvOptions = { ...options };
  out.apiToken ??= set(env, 'CODEGEN_API_TOKEN');
  if (out.orgId === undefined) {
    const org = set(env, 'CODEGEN_ORG_ID');
    if (org !== undefined) {
      if (!/^\d+$/.test(org))
        throw new AiwireError(`CODEGEN_ORG_ID must be a whole number, got ${JSON.stringify(org)}`);
      out.orgId = Number(org);
    }
  }
  if (out.baseURL === undefined || out.baseURL === null)
    out.baseURL = set(env, 'CODEGEN_BASE_URL') ?? out.baseURL;
  if (out.timeout === undefined && set(env, 'CODEGEN_TIMEOUT_MS') === undefined) {
    const seconds = positive(env, 'CODEGEN_TIMEOUT', 'a number of seconds');
    if (seconds !== undefined) out.timeout = Math.round(seconds * 1000);
  }
  if (out.rateLimit === undefined) {
    const requests = positive(env, 'CODEGEN_RATE_LIMIT_REQUESTS', 'a number of requests');
    const window = positive(env, 'CODEGEN_RATE_LIMIT_WINDOW', 'a number of seconds') ?? 60;
    if (requests !== undefined) out.rateLimit = { requestsPerMinute: (requests * 60) / window };
  }
  if (out.cache === undefined && set(env, 'CODEGEN_CACHE_TTL_MS') === undefined) {
    const enable = set(env, 'CODEGEN_ENABLE_CACHING')?.toLowerCase();
    if (enable !== undefined && !['true', 'false', '1', '0', 'yes', 'no'].includes(enable)) {
      throw new AiwireError(
        `CODEGEN_ENABLE_CACHING must be true or false, got ${JSON.stringify(env.CODEGEN_ENABLE_CACHING)}`,
      );
    }
    const ttl = positive(env, 'CODEGEN_CACHE_TTL', 'a number of seconds') ?? 300;
    if (enable === 'true' || enable === '1' || enable === 'yes') out.cache = { ttlMs: ttl * 1000 };
    else if (enable !== undefined) out.cache = null as never; // explicitly off: no preset cache either
  }
  if (out.logLevel === undefined) {
    const level = set(env, 'CODEGEN_LOG_LEVEL');
    if (level !== undefined) {
      const mapped = LOG_LEVELS[level.toLowerCase()];
      if (!mapped) {
        throw new AiwireError(
          `CODEGEN_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR, CRITICAL or OFF, got ${JSON.stringify(level)}`,
        );
      }
      out.logLevel = mapped;
    }
  }
  if (out.metrics === undefined && set(env, 'CODEGEN_METRICS') === undefined) out.metrics = true;
  const preset = out.preset ?? (set(env, 'CODEGEN_PRESET') as PresetName | undefined);
  if (preset !== undefined) {
    if (!Object.hasOwn(CODEGEN_PRESETS, preset)) {
      throw new AiwireError(
        `preset must be 'development', 'production' or 'testing', got ${JSON.stringify(preset)}`,
      );
    }
    const extras = CODEGEN_PRESETS[preset];
    if (out.rateLimit === undefined && extras.rateLimit !== undefined) out.rateLimit = extras.rateLimit;
    if (out.cache === undefined && extras.cache && set(env, 'CODEGEN_CACHE_TTL_MS') === undefined)
      out.cache = { ...extras.cache };
  }
  // `null`: caching explicitly off (CODEGEN_ENABLE_CACHING=false): no cache option at all
  if ((out.cache as unknown) === null) out.cache = undefined;
  return out as O & CodegenEnvOptions;
}
