/**
 * What the `queue` executor's collector ({@link queueExecutor}) and its workers ({@link runWorker})
 * agree on: the BullMQ queue and key names, the job's data, the job id (a stable function of the run
 * and `custom_id`), the Redis stream the results travel back in, and loading the optional packages
 * `bullmq` and `ioredis` (only when a queue is used, so the rest of aiwire never needs them).
 *
 * Keys (prefix `aiwire` by default): BullMQ's own under `<prefix>:<queue>:…`; the results of run R in
 * the stream `<prefix>:<queue>:results:R`, one entry per finished item (`line`: the output line as
 * JSON, with the `input_hash` of the job that made it), kept 7 days after its last entry or until the
 * run completes; and the hash `<prefix>:<queue>:hashes:R` (`custom_id` -> `input_hash` of its latest
 * job, while its line is not yet collected), by which a rerun finds the job of an edited line to remove.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { AiwireError } from '../core/errors.js';
import type { BatchItem } from './types.js';

/** Where a queue lives: the Redis server, the queue's name and the key prefix. */
export interface QueueConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` of the Redis every worker and the collector share. Required. */
  redis: string;
  /** The BullMQ queue's name. Default `'aiwire-batch'`. */
  queue?: string | undefined;
  /** Prefix of every Redis key of the queue (BullMQ's `prefix`). Default `'aiwire'`. */
  prefix?: string | undefined;
}

/** The data of one job: the run it belongs to and the item. */
export interface QueueJobData {
  /** The run's id (the collector's `runId`): the results go to that run's stream. */
  run: string;
  /** The input item, as validated by the runner. */
  item: BatchItem;
  /**
   * The `input_hash` of the item's input line (16 hex digits, see `inputHash`), when the runner gave
   * one: the worker puts it in the item's output line, so the collector can tell a line answering an
   * older version of the input line (a job of an earlier run) from the current one.
   */
  hash?: string | undefined;
}

/** Default queue name. */
export const DEFAULT_QUEUE = 'aiwire-batch';
/** Default key prefix. */
export const DEFAULT_PREFIX = 'aiwire';
/** How long a run's results stream outlives its last entry, in seconds (7 days). */
export const RESULTS_TTL_S = 7 * 24 * 3600;

/** The checked connection options, defaults applied. */
export interface ResolvedQueue {
  redis: string;
  queue: string;
  prefix: string;
}

/**
 * Checks `options` and applies the defaults.
 * @throws AiwireError when `redis` is not a `redis://` URL, or `queue` / `prefix` is empty or holds `:`.
 */
export function resolveQueue(options: QueueConnectionOptions): ResolvedQueue {
  const { redis } = options;
  if (typeof redis !== 'string' || !/^redis:\/\/[^/]/.test(redis)) {
    throw new AiwireError(
      `the queue's redis must be a URL like redis://127.0.0.1:6379, got ${JSON.stringify(redis)}`,
    );
  }
  const name = (what: string, v: string | undefined, fallback: string): string => {
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v === '' || v.includes(':')) {
      throw new AiwireError(
        `the queue's ${what} must be a non-empty name without ':', got ${JSON.stringify(v)}`,
      );
    }
    return v;
  };
  return {
    redis,
    queue: name('name', options.queue, DEFAULT_QUEUE),
    prefix: name('prefix', options.prefix, DEFAULT_PREFIX),
  };
}

/**
 * The job id of `customId` in run `runId` made from the input line of hash `inputHash`:
 * `<runId>-<sha256(custom_id), 24 base64url chars>[-<inputHash>]`. Stable, so enqueueing an unchanged
 * item again (a rerun) while its job exists adds nothing, while an edited line gets a job of its own;
 * hashed, so any `custom_id` (`:` included, which BullMQ refuses in ids) makes a valid id.
 */
export function jobIdOf(runId: string, customId: string, inputHash?: string): string {
  const id = `${runId}-${createHash('sha256').update(customId).digest('base64url').slice(0, 24)}`;
  return inputHash ? `${id}-${inputHash}` : id;
}

/** The key of run `runId`'s hash of `custom_id` -> `input_hash` of its latest job. */
export function hashesKey(q: ResolvedQueue, runId: string): string {
  return `${q.prefix}:${q.queue}:hashes:${runId}`;
}

/** `url` with its password replaced by `***` (`redis://user:***@host:port`), for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * The collector (`queueExecutor`) went `redisDownTimeoutMs` without a connection to its Redis. The
 * jobs already queued and the lines already published stay in Redis (if it kept its data): rerunning
 * the same command once Redis is back resumes the run.
 */
export class QueueRedisDownError extends AiwireError {
  override name = 'QueueRedisDownError';
  /** The Redis URL, password replaced by `***`. */
  readonly redis: string;
  /** How long the collector went without Redis before giving up, in ms. */
  readonly downMs: number;
  /**
   * @param redis the collector's Redis URL (its password is hidden in the message and `redis`)
   * @param downMs how long it went without Redis, in ms
   * @param lastError the last connection error's message (e.g. `connect ECONNREFUSED …`), if any
   */
  constructor(redis: string, downMs: number, lastError: string | undefined) {
    super(
      `the queue's Redis ${redactRedisUrl(redis)} has been unreachable for ${Math.round(downMs / 1000)} s` +
        `${lastError ? ` (${lastError})` : ''}, so the batch's lines cannot be collected. ` +
        'The jobs already queued and the lines the workers published stay in Redis: once it is back, run the ' +
        'same command again (same output) to resume (a longer wait: --redis-down-timeout MS, or ' +
        'redisDownTimeoutMs in code)',
    );
    this.redis = redactRedisUrl(redis);
    this.downMs = downMs;
  }
}

/** The key of run `runId`'s results stream. */
export function resultsKey(q: ResolvedQueue, runId: string): string {
  return `${q.prefix}:${q.queue}:results:${runId}`;
}

/**
 * Checks a run id: 1-64 characters of `A-Z a-z 0-9 _ .` (it goes into job ids and key names).
 * @throws AiwireError otherwise.
 */
export function checkRunId(runId: string): string {
  if (typeof runId !== 'string' || !/^[A-Za-z0-9_.]{1,64}$/.test(runId)) {
    throw new AiwireError(
      `the queue's runId must be 1-64 characters of A-Z, a-z, 0-9, '_' or '.', got ${JSON.stringify(runId)}`,
    );
  }
  return runId;
}

/** The modules the queue needs, loaded on first use. */
export interface QueueModules {
  bullmq: typeof import('bullmq');
  Redis: typeof import('ioredis').Redis;
}

let loaded: Promise<QueueModules> | undefined;

/**
 * Loads `bullmq` and `ioredis` (optional peer dependencies of aiwire).
 * @throws AiwireError naming the packages to install when either is missing.
 */
export function loadQueueModules(): Promise<QueueModules> {
  loaded ??= Promise.all([import('bullmq'), import('ioredis')]).then(
    ([bullmq, ioredis]) => ({ bullmq, Redis: ioredis.Redis }),
    (e: unknown) => {
      loaded = undefined;
      throw new AiwireError(
        `the queue executor and 'aiwire worker' need the optional packages bullmq and ioredis: ` +
          `npm install bullmq@^6.7.0 ioredis@^6.0.0 (${(e as Error).message})`,
      );
    },
  );
  return loaded;
}

/**
 * A new ioredis connection to `url` as BullMQ wants it (`maxRetriesPerRequest: null`: commands wait
 * through a reconnect instead of failing), which reports connection errors to `onError` instead of
 * as unhandled `error` events.
 */
export function connectRedis(
  mods: QueueModules,
  url: string,
  onError: (e: Error) => void,
): InstanceType<QueueModules['Redis']> {
  const conn = new mods.Redis(url, { maxRetriesPerRequest: null });
  conn.on('error', onError);
  return conn;
}

/**
 * A job a worker cannot process for a reason of its own, not the API's: its data is not an item of
 * `aiwire batch --via queue` (enqueued by another program, or by an aiwire version whose job data this
 * worker does not read). Its item's line, when the job names one, gets error code `queue_error`.
 */
export class QueueJobError extends Error {
  override name = 'QueueJobError';
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Checks a job's data: `{ run: <run id>, item: { custom_id, method, url, body?, line }, hash? }` as
 * {@link QueueJobData} says.
 * @throws QueueJobError saying which field is wrong, that the job was not enqueued by a compatible
 *   `aiwire batch --via queue`, and what to do.
 */
export function checkJobData(jobId: string | undefined, data: unknown): QueueJobData {
  const d = data as Partial<QueueJobData> | null;
  const item = d?.item as Partial<BatchItem> | undefined;
  const wrong =
    typeof d !== 'object' || d === null
      ? 'its data is not an object'
      : typeof d.run !== 'string' || !/^[A-Za-z0-9_.]{1,64}$/.test(d.run)
        ? `its "run" is ${JSON.stringify(d.run)}, not a run id`
        : typeof item !== 'object' || item === null
          ? 'it has no "item" object'
          : typeof item.custom_id !== 'string'
            ? 'its item has no string "custom_id"'
            : typeof item.method !== 'string' || !METHODS.has(item.method)
              ? `its item's "method" is ${JSON.stringify(item.method)}, not GET, POST, PUT, PATCH or DELETE`
              : typeof item.url !== 'string' || !item.url.startsWith('/')
                ? `its item's "url" is ${JSON.stringify(item.url)}, not a path such as /v1/chat/completions`
                : d.hash !== undefined && (typeof d.hash !== 'string' || !/^[0-9a-f]{1,64}$/.test(d.hash))
                  ? `its "hash" is ${JSON.stringify(d.hash)}, not an input_hash (hex digits)`
                  : undefined;
  if (wrong !== undefined) {
    throw new QueueJobError(
      `job ${jobId ?? '(no id)'} is not an item of aiwire batch --via queue: ${wrong}. It was enqueued by ` +
        'another program or an aiwire version this worker does not read: run the collector (aiwire batch) ' +
        'and the workers (aiwire worker) on the same aiwire version, and keep other jobs off this queue',
    );
  }
  return d as QueueJobData;
}
