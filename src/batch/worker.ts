/**
 * A `queue` worker ({@link runWorker}, `aiwire worker`): takes items from the BullMQ queue on Redis that
 * `aiwire batch --via queue` fills, sends each with {@link sendItem} through {@link BatchClients} (the
 * engine's retries, limits and breaker), and appends its output line to the run's results stream,
 * where the collector reads it. Any number of workers, on any machines, share one queue; with
 * `rateLimit.redis` in the client options they share one rate budget too.
 *
 * Nothing is lost: a line is in the results stream before its job is marked done, so a worker killed
 * mid-item leaves a job that BullMQ's stalled-job check hands to another worker (the collector keeps the
 * first line per `custom_id`); a job that stalled more than `maxStalledCount` times gets an output line
 * with error code `worker_lost`; an item that fails gets its line with the typed error (never a BullMQ
 * failure that vanishes). A job whose data is not an aiwire item ({@link checkJobData}), or whose line
 * Redis refused, fails in BullMQ and gets a line with error code `queue_error` (when it names its run
 * and `custom_id`; else the error goes to `onError`).
 *
 * @module
 */
import type { BaseClient } from '../core/client.js';
import { type BatchClientOptions, BatchClients } from './clients.js';
import {
  checkJobData,
  connectRedis,
  hashesKey,
  loadQueueModules,
  type QueueConnectionOptions,
  type QueueJobData,
  QueueJobError,
  RESULTS_TTL_S,
  resolveQueue,
  resultsKey,
} from './queue-redis.js';
import { outputLineId, sendItem, serializeLine, toBatchError } from './send-item.js';
import type { BatchOutputLine } from './types.js';

/** Options of {@link runWorker}. */
export interface WorkerOptions extends QueueConnectionOptions, BatchClientOptions {
  /** Items this worker sends at once. Default 16. */
  concurrency?: number | undefined;
  /**
   * How long a job stays locked to this worker without a renewal, in ms (BullMQ `lockDuration`; renewed
   * every half of it while the item runs). A killed worker's items go back to the queue after at most
   * this plus `stalledIntervalMs`. Default 30,000.
   */
  lockDurationMs?: number | undefined;
  /** How often this worker looks for stalled jobs (locks expired), in ms. Default 30,000. */
  stalledIntervalMs?: number | undefined;
  /**
   * How many times a job may stall (its worker died or blocked past the lock) and be run again; one more
   * and its output line says `worker_lost`. Default 3.
   */
  maxStalledCount?: number | undefined;
  /** Aborting it stops the worker gracefully: no new items, the in-flight ones finish, then it resolves. */
  signal?: AbortSignal | undefined;
  /** Called once the worker is connected and taking items. */
  onReady?: (() => void) | undefined;
  /**
   * Called after each item's line is in the results stream. What it throws goes to `onError`: the line
   * is published and the job done all the same (never a second, `queue_error`, line for the item).
   */
  onItem?: ((line: BatchOutputLine) => void) | undefined;
  /**
   * Called with Redis connection errors (ioredis reconnects by itself), with a {@link QueueJobError}
   * for a failed job that names no run or `custom_id` to give a line to, and with what `onItem`
   * throws. Default: ignored.
   */
  onError?: ((error: Error) => void) | undefined;
}

/** What a worker did, once stopped. */
export interface WorkerSummary {
  /** Items sent whose line has no error. */
  succeeded: number;
  /** Items whose line has an error (the server's or aiwire's), `worker_lost` lines included. */
  failed: number;
  /**
   * Times the shared rate budget's Redis was down (a connection error, or no answer to a reservation
   * within 2 s; a merely slow answer is waited for), and the calls then paced by the local fallback
   * share instead (`client.stats()` of this worker's clients; see
   * `RedisLimitOptions`). 0 without `rateLimit.redis`.
   */
  sharedLimitOutages: number;
  sharedLimitFallbackCalls: number;
  /**
   * Jobs done without sending their request: the collector already had the item's line (a job an
   * earlier run left queued, enqueued again after its first copy had finished) or the item's input
   * line was edited since the job was made. Nothing is published for them.
   */
  skipped: number;
}

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new TypeError(`runWorker: ${name} must be a whole number >= 1, got ${String(v)}`);
  }
  return v;
}

/**
 * Runs a worker until `options.signal` aborts, then lets the items in flight finish and resolves.
 * While Redis is unreachable it waits for it (ioredis reconnects; each error goes to `onError`).
 *
 * @throws AiwireError for a bad `redis` URL or queue name, or when `bullmq` / `ioredis` are not
 *   installed; TypeError for a `concurrency` or duration that is not a whole number >= 1; BullMQ's error
 *   when its run loop fails (after the items in flight have finished).
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const q = resolveQueue(options);
  const concurrency = positiveInt('concurrency', options.concurrency, 16);
  const lockDuration = positiveInt('lockDurationMs', options.lockDurationMs, 30_000);
  const stalledInterval = positiveInt('stalledIntervalMs', options.stalledIntervalMs, 30_000);
  const maxStalledCount = positiveInt('maxStalledCount', options.maxStalledCount, 3);
  const mods = await loadQueueModules();
  const onError = options.onError ?? (() => {});
  const conn = connectRedis(mods, q.redis, onError);
  const clients = new BatchClients(options);
  const summary: WorkerSummary = {
    succeeded: 0,
    failed: 0,
    sharedLimitOutages: 0,
    sharedLimitFallbackCalls: 0,
    skipped: 0,
  };
  const used = new Set<BaseClient>();
  /** `worker_lost` / `queue_error` lines being published (awaited before disconnecting). */
  const lostLines = new Set<Promise<void>>();

  const publish = async (run: string, line: BatchOutputLine): Promise<void> => {
    const key = resultsKey(q, run);
    const replies = await conn
      .multi()
      .xadd(key, '*', 'line', serializeLine(line))
      .expire(key, RESULTS_TTL_S)
      .exec();
    // A command refused inside MULTI (WRONGTYPE, OOM) does not reject `exec`: its reply holds the error.
    const refused = replies?.find(([e]) => e)?.[0];
    if (refused) throw new Error(`Redis refused the line of ${line.custom_id} in ${key}: ${refused.message}`);
    if (line.error) summary.failed += 1;
    else summary.succeeded += 1;
    // The line is out: the caller's callback failing must not fail the job (which would publish a
    // second line for the item).
    try {
      options.onItem?.(line);
    } catch (e) {
      onError(e instanceof Error ? e : new Error(String(e)));
    }
  };

  const worker = new mods.bullmq.Worker<QueueJobData>(
    q.queue,
    async (job) => {
      // Outside the `try`: a job that is not an aiwire item fails in BullMQ (a `queue_error` line).
      const { run, item, hash } = checkJobData(job.id, job.data);
      // Still wanted? The collector records the hash of the item's input line before it enqueues the
      // job and deletes it once it has the item's line: a job left over from an earlier run whose line
      // came in meanwhile (the collector enqueued it again after the old job had finished and gone), or
      // one made from a line edited since, is done without sending its request again.
      if (hash !== undefined && (await conn.hget(hashesKey(q, run), item.custom_id)) !== hash) {
        summary.skipped += 1;
        return;
      }
      let line: BatchOutputLine;
      try {
        const client = clients.for(item);
        used.add(client);
        line = await sendItem(client, item);
      } catch (e) {
        // Only building the client can throw here (a missing API key): the item's line says so.
        line = { id: outputLineId(), custom_id: item.custom_id, response: null, error: toBatchError(e) };
      }
      // The collector drops a line made from another version of the item's input line.
      if (hash !== undefined) line.input_hash = hash;
      await publish(run, line);
    },
    {
      connection: conn,
      prefix: q.prefix,
      concurrency,
      lockDuration,
      stalledInterval,
      maxStalledCount,
      autorun: false,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    },
  );
  // A job BullMQ fails is one that stalled too often (its workers died or blocked), whose data is not an
  // aiwire item, or whose line Redis refused: its line says so instead of the job vanishing.
  worker.on('failed', (job, err) => {
    if (!job) return;
    const data = job.data as Partial<QueueJobData> | undefined;
    const run = data?.run;
    const customId = (data?.item as { custom_id?: unknown } | undefined)?.custom_id;
    if (typeof run !== 'string' || !/^[A-Za-z0-9_.]{1,64}$/.test(run) || typeof customId !== 'string') {
      // No run or item to give a line to: the worker's owner is told instead.
      onError(new QueueJobError(err.message));
      return;
    }
    const invalid = err.name === 'QueueJobError';
    const stalled = !invalid && /stalled/i.test(err.message);
    const line: BatchOutputLine = {
      id: outputLineId(),
      custom_id: customId,
      response: null,
      error: {
        code: stalled ? 'worker_lost' : 'queue_error',
        message: stalled
          ? `the item's worker stopped while sending it more than ${maxStalledCount} times (${err.message}); run the batch again to retry it`
          : invalid
            ? err.message
            : `the item's job failed in the queue (${err.message}); run the batch again to retry it`,
        type: stalled ? 'WorkerLostError' : invalid ? 'QueueJobError' : 'QueueError',
        status: null,
        // A job this worker cannot read fails the same way when sent again.
        retryable: !invalid,
      },
    };
    if (typeof data?.hash === 'string') line.input_hash = data.hash;
    const p = publish(run, line).catch(onError);
    lostLines.add(p);
    p.finally(() => lostLines.delete(p));
  });
  worker.on('error', onError);

  let runFailure: { error: unknown } | undefined;
  try {
    const running = worker.run();
    await worker.waitUntilReady();
    options.onReady?.();
    await new Promise<void>((resolve) => {
      if (options.signal?.aborted) resolve();
      else options.signal?.addEventListener('abort', () => resolve(), { once: true });
      running.then(
        () => resolve(),
        (error: unknown) => {
          runFailure = { error };
          resolve();
        },
      );
    });
    // Graceful: no new jobs; the ones in flight finish (their lines published) before close resolves.
    await worker.close();
    await running.catch(() => {});
    await Promise.all(lostLines);
    if (runFailure) throw runFailure.error;
  } finally {
    for (const c of used) {
      const s = c.stats();
      summary.sharedLimitOutages += s.sharedLimitOutages;
      summary.sharedLimitFallbackCalls += s.sharedLimitFallbackCalls;
    }
    clients.close();
    conn.disconnect();
  }
  return summary;
}
