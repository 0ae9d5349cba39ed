/**
 * Debug logs of requests, shaped like openai-node's so the same log filters work: every line starts
 * with `[log_xxxxxx]` (one id per logical request), then what happened. At `debug`:
 *
 * - `[log_1a2b3c] sending request` with `{ method, url }` (query and secrets left out);
 * - one line per failed attempt, from the engine's record: `POST https://…/chat/completions failed with
 *   status 429 in 12ms - retrying in 480ms, 1 attempts remaining` (or `connection failed (<error>)`, or
 *   `- resending at once on a fresh connection` after a stale pooled connection);
 * - the outcome: `… succeeded with status 200 in 25ms` with `{ requestId, attempts, durationMs }`, or
 *   `… failed with status 500 in 30ms - no more retries left`, or `connection failed (<error>) [<code>]`;
 * - streams: `… stream opened with status 200 in 8ms`, then one line when it ends:
 *   `stream ended: 1000 events, 311000 bytes in 950ms` (or `stream failed (<error>)`, `stream aborted`).
 */
import type { NativeResult } from '../native/index.js';
import type { LevelLogger } from './logger.js';
import type { NativeBatchLike, NativeStreamLike } from './streaming.js';

/** A new request log id (`log_` and 6 hex digits, as openai-node's). */
function newLogID(): string {
  return `log_${((Math.random() * 0x1000000) | 0).toString(16).padStart(6, '0')}`;
}

/** The log lines of one logical request (only built when debug logging is on). */
export class RequestLog {
  readonly #log: LevelLogger;
  readonly #id = newLogID();
  readonly #what: string;
  readonly #maxRetries: number;
  readonly #started = performance.now();

  /**
   * @param log the client's logger (debug must be enabled).
   * @param method HTTP method, any case.
   * @param url the request URL; its query is not logged.
   * @param maxRetries the retries this request may make (for "N attempts remaining").
   */
  constructor(log: LevelLogger, method: string, url: string, maxRetries: number) {
    this.#log = log;
    this.#what = `${method.toUpperCase()} ${url.split('?')[0]}`;
    this.#maxRetries = maxRetries;
    const [m, u] = this.#what.split(' ');
    log.debug(`[${this.#id}] sending request`, { method: m, url: u });
  }

  #ms(): number {
    return Math.round(performance.now() - this.#started);
  }

  /** Log the engine's record of failed attempts (`NativeResult.trace`) and the outcome. */
  settled(res: NativeResult, requestId: string | null, kind: 'response' | 'stream' = 'response'): void {
    let retries = 0;
    for (const line of res.trace?.split('\n') ?? []) {
      if (!line) continue;
      const [, status, took, action, wait, error, endpoint] = line.split('\t');
      const on = endpoint === undefined ? '' : ` on endpoints[${endpoint}]`;
      if (action === 'endpoint') {
        this.#log.debug(`[${this.#id}] ${this.#what} last attempt${on}`);
        continue;
      }
      const what =
        status && status !== '0'
          ? `${this.#what} failed with status ${status}${on} in ${took}ms`
          : `${this.#what} connection failed (${error})${on} after ${took}ms`;
      if (action === 'resend') {
        this.#log.debug(`[${this.#id}] ${what} - resending at once on a fresh connection`);
      } else {
        retries++;
        const left = Math.max(0, this.#maxRetries - retries);
        this.#log.debug(`[${this.#id}] ${what} - retrying in ${wait}ms, ${left} attempts remaining`);
      }
    }
    const details = { requestId, attempts: res.attempts, durationMs: this.#ms() };
    if (res.ok) {
      const verb = kind === 'stream' ? 'stream opened' : 'succeeded';
      this.#log.debug(
        `[${this.#id}] ${this.#what} ${verb} with status ${res.status} in ${details.durationMs}ms`,
        details,
      );
    } else if (res.errorKind === 'status') {
      const tail = res.attempts > this.#maxRetries ? 'no more retries left' : 'not retried';
      this.#log.debug(
        `[${this.#id}] ${this.#what} failed with status ${res.status} in ${details.durationMs}ms - ${tail}`,
        details,
      );
    } else {
      const code = res.errorCode ? ` [${res.errorCode}]` : '';
      this.#log.debug(
        `[${this.#id}] ${this.#what} ${res.errorKind === 'timeout' ? 'timed out' : res.errorKind === 'aborted' ? 'aborted' : 'connection failed'} (${res.errorMessage ?? 'unknown'})${code} in ${details.durationMs}ms`,
        details,
      );
    }
  }

  /**
   * Wrap a native stream handle so its end is logged once: events handed over, bytes read, duration,
   * or why it failed.
   */
  watch(handle: NativeStreamLike): NativeStreamLike {
    let events = 0;
    let logged = false;
    const end = (batch: NativeBatchLike | undefined, error?: unknown) => {
      if (logged) return;
      logged = true;
      const ms = this.#ms();
      if (error !== undefined || batch?.errorKind) {
        const reason =
          batch?.errorKind === 'aborted'
            ? 'stream aborted'
            : `stream failed (${batch?.errorMessage ?? String(error)})`;
        this.#log.debug(`[${this.#id}] ${reason} after ${events} events in ${ms}ms`);
      } else {
        this.#log.debug(
          `[${this.#id}] stream ended: ${events} events, ${batch?.receivedBytes ?? 0} bytes in ${ms}ms`,
          { events, bytes: batch?.receivedBytes ?? 0, durationMs: ms },
        );
      }
    };
    return {
      nextBatch: () =>
        handle.nextBatch().then(
          (batch) => {
            events += batch.count || batch.events?.length || 0;
            if (batch.done) end(batch);
            return batch;
          },
          (e: unknown) => {
            end(undefined, e);
            throw e;
          },
        ),
      cancel: () => {
        if (!logged) {
          logged = true;
          this.#log.debug(`[${this.#id}] stream aborted after ${events} events in ${this.#ms()}ms`);
        }
        handle.cancel();
      },
    };
  }
}
