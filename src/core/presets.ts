/**
 * Presets (`preset: 'development' | 'production' | 'testing'`, or `<PREFIX>_PRESET` in the
 * environment, the prefix being the provider's: `OPENAI_`, `ANTHROPIC_`, `REPLICATE_`): defaults for a
 * few options, after seed 002's meaning (development: short timeouts, verbose logs, no cache;
 * production: longer timeouts, more retries, error-only logs, metrics and request sharing; testing:
 * fast timeouts, no retries, nothing kept). Precedence, per option: the option given to the client,
 * then the environment variable, then the preset, then the client's own default.
 */
import { AiwireError } from './errors.js';
import type { LogLevel } from './logger.js';
import type { CacheOptions } from './reuse.js';

/** The preset names. */
export type PresetName = 'development' | 'production' | 'testing';

/** The options a preset (or the environment) may fill in. */
export interface PresetOptions {
  timeout?: number | undefined;
  connectTimeout?: number | undefined;
  maxRetries?: number | undefined;
  retryMinDelay?: number | undefined;
  logLevel?: LogLevel | undefined;
  metrics?: boolean | undefined;
  dedupe?: boolean | 'all' | undefined;
  cache?: CacheOptions | undefined;
}

/**
 * What each preset sets (the README's table is this one). Production does not cache: GETs there
 * read jobs, batches and predictions whose state changes (the polling helpers read them), so a cache
 * is opt-in (`cache`, or `<PREFIX>_CACHE_TTL_MS`); it shares identical GETs in flight instead.
 */
export const PRESETS: Readonly<Record<PresetName, Readonly<PresetOptions>>> = Object.freeze({
  development: Object.freeze({ timeout: 60_000, connectTimeout: 5_000, maxRetries: 1, logLevel: 'info' }),
  production: Object.freeze({
    timeout: 600_000,
    connectTimeout: 10_000,
    maxRetries: 3,
    logLevel: 'error',
    metrics: true,
    dedupe: true,
  }),
  testing: Object.freeze({
    timeout: 5_000,
    connectTimeout: 1_000,
    maxRetries: 0,
    retryMinDelay: 10,
    logLevel: 'warn',
  }),
} as const);

/** A number of an environment variable, or undefined when unset. */
function envNumber(env: Record<string, string | undefined>, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    throw new AiwireError(`${name} must be a number >= 0, got ${JSON.stringify(text)}`);
  }
  return n;
}

/**
 * Options with the preset and the environment filled in where the caller gave none.
 *
 * Environment variables read (`P` is the provider's prefix, e.g. `OPENAI`): `P_PRESET`,
 * `P_TIMEOUT_MS`, `P_MAX_RETRIES`, `P_CACHE_TTL_MS` (a GET cache of that TTL), `P_METRICS`
 * (`1`/`true`).
 *
 * @param prefix the provider's prefix with its underscore, e.g. `OPENAI_`.
 * @throws AiwireError for an unknown preset name or an unreadable environment value.
 */
export function withPreset<O extends PresetOptions & { preset?: PresetName | undefined }>(
  options: O,
  prefix: string,
  env: Record<string, string | undefined> = process.env,
): O {
  const name = options.preset ?? (env[`${prefix}PRESET`] || undefined);
  const fromEnv: PresetOptions = {};
  const timeout = envNumber(env, `${prefix}TIMEOUT_MS`);
  if (timeout !== undefined) fromEnv.timeout = timeout;
  const retries = envNumber(env, `${prefix}MAX_RETRIES`);
  if (retries !== undefined) fromEnv.maxRetries = retries;
  const ttl = envNumber(env, `${prefix}CACHE_TTL_MS`);
  if (ttl !== undefined && ttl > 0) fromEnv.cache = { ttlMs: ttl };
  const metrics = env[`${prefix}METRICS`];
  if (metrics !== undefined && metrics !== '') fromEnv.metrics = metrics === '1' || metrics === 'true';
  if (name === undefined && Object.keys(fromEnv).length === 0) return options;
  let preset: Readonly<PresetOptions> = {};
  if (name !== undefined) {
    if (!Object.hasOwn(PRESETS, name)) {
      throw new AiwireError(
        `preset must be 'development', 'production' or 'testing', got ${JSON.stringify(name)}`,
      );
    }
    preset = PRESETS[name as PresetName];
  }
  const out: Record<string, unknown> = { ...preset, ...fromEnv };
  // A log level from the environment (`AIWIRE_LOG`, `P_LOG`) wins over the preset's.
  if (env.AIWIRE_LOG || env[`${prefix}LOG`]) delete out.logLevel;
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out as O;
}
