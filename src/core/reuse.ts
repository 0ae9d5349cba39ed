/**
 * Answering a call without a network request of its own: in-flight deduplication (`dedupe`) and a
 * TTL cache (`cache`). Both key a call by method, URL (with query), the headers given for it and its
 * body; both hold the engine's raw response (body text), so every caller parses its own copy.
 * Only buffered JSON calls take part: never streams, binary responses, multipart uploads, or calls
 * with an `AbortSignal` (one caller's abort must not fail the others).
 */
import type { NativeRequest } from '../native/index.js';
import type { RawResponse } from './api-promise.js';
import { AiwireError } from './errors.js';

/** `cache` client option. */
export interface CacheOptions {
  /** How long an entry answers, ms (> 0). Required. */
  ttlMs: number;
  /** Entries kept; the oldest goes first when full. Default 1,000. */
  maxEntries?: number | undefined;
  /**
   * Also cache POSTs (e.g. `temperature: 0` completions you want answered once). Default false: only
   * GETs. POSTs that create things (files, batches, jobs) must not be cached: turn this on only on a
   * client used for deterministic reads.
   */
  post?: boolean | undefined;
}

/** `client.cacheStats()`. */
export interface CacheStats {
  /** Calls answered from the cache. */
  hits: number;
  /** Cacheable calls that went to the network. */
  misses: number;
  /** Entries held now (expired ones count until they are next looked up or pushed out). */
  size: number;
}

/** The options of this module, as the client takes them. */
export interface ReuseOptions {
  /**
   * Share one network call between identical calls in flight at once (same method, URL, per-call
   * headers and body): `true` shares GETs, `'all'` POSTs too (for a client whose POSTs are reads, e.g.
   * embeddings or `temperature: 0` completions). Each caller gets its own parsed copy. Default false.
   */
  dedupe?: boolean | 'all' | undefined;
  /** A TTL cache of 2xx responses; see {@link CacheOptions}. Default none. */
  cache?: CacheOptions | undefined;
}

interface Entry {
  raw: RawResponse;
  expires: number;
}

/** One client's in-flight table and cache. */
export class Reuse {
  readonly #dedupe: boolean | 'all';
  readonly #ttl: number;
  readonly #max: number;
  readonly #cachePost: boolean;
  readonly #inFlight = new Map<string, Promise<RawResponse>>();
  readonly #cache = new Map<string, Entry>();
  #hits = 0;
  #misses = 0;

  /** @throws AiwireError for a `cache.ttlMs` that is not a positive number or a bad `maxEntries`. */
  constructor(options: ReuseOptions) {
    this.#dedupe = options.dedupe ?? false;
    const c = options.cache;
    if (c) {
      if (!(typeof c.ttlMs === 'number' && c.ttlMs > 0)) {
        throw new AiwireError(`cache.ttlMs must be a number of ms > 0, got ${String(c.ttlMs)}`);
      }
      const max = c.maxEntries ?? 1_000;
      if (!Number.isInteger(max) || max < 1) {
        throw new AiwireError(`cache.maxEntries must be a whole number >= 1, got ${String(c.maxEntries)}`);
      }
      this.#ttl = c.ttlMs;
      this.#max = max;
      this.#cachePost = c.post === true;
    } else {
      this.#ttl = 0;
      this.#max = 0;
      this.#cachePost = false;
    }
  }

  /** The reuse a client needs for these options, or undefined when neither is on. */
  static for(options: ReuseOptions): Reuse | undefined {
    return options.dedupe || options.cache ? new Reuse(options) : undefined;
  }

  /**
   * Answer `native` from the cache, join an identical call in flight, or `send` it.
   * @param shareable false for calls that never take part (signal, streams, binary, multipart).
   */
  send(native: NativeRequest, shareable: boolean, send: () => Promise<RawResponse>): Promise<RawResponse> {
    const post = native.method === 'POST';
    const get = native.method === 'GET';
    const cacheable = shareable && this.#ttl > 0 && (get || (post && this.#cachePost));
    const dedupable = shareable && (get || (post && this.#dedupe === 'all')) && !!this.#dedupe;
    if (!cacheable && !dedupable) return send();
    const key = keyOf(native);
    if (cacheable) {
      const hit = this.#cache.get(key);
      if (hit && hit.expires > performance.now()) {
        this.#hits++;
        return Promise.resolve(hit.raw);
      }
      if (hit) this.#cache.delete(key);
    }
    if (dedupable) {
      const joined = this.#inFlight.get(key);
      if (joined) return joined;
    }
    if (cacheable) this.#misses++;
    const pending = send().then(
      (raw) => {
        if (dedupable) this.#inFlight.delete(key);
        if (cacheable) this.#store(key, raw);
        return raw;
      },
      (e: unknown) => {
        if (dedupable) this.#inFlight.delete(key);
        throw e;
      },
    );
    if (dedupable) this.#inFlight.set(key, pending);
    return pending;
  }

  #store(key: string, raw: RawResponse): void {
    if (this.#cache.size >= this.#max) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    // A response handed out again must not carry the first reader's parsed object.
    this.#cache.set(key, {
      raw: { native: raw.native, toResponse: raw.toResponse },
      expires: performance.now() + this.#ttl,
    });
  }

  /** Hits, misses and entries. */
  stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#cache.size };
  }

  /** Drop every cached entry (the counters stay). */
  clear(): void {
    this.#cache.clear();
  }
}

/** Method, URL, per-call headers (in order given) and body: what makes two calls the same. */
function keyOf(native: NativeRequest): string {
  const body = native.body;
  const text =
    body === undefined || body === null ? '' : typeof body === 'string' ? body : body.toString('base64');
  return `${native.method} ${native.url}\n${(native.headers ?? []).join('\n')}\n${(native.removeHeaders ?? []).join(',')}\n${text}`;
}
