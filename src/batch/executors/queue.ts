/**
 * The `queue` executor (`aiwire batch --via queue --redis URL`): enqueues the items on a BullMQ queue
 * on Redis and collects the output lines that any number of workers ({@link runWorker},
 * `aiwire worker`, on any machines) append to the run's results stream, until every item has its line.
 *
 * - Job id = a stable function of the run id, `custom_id` and the input line's `input_hash`
 *   ({@link jobIdOf}): enqueueing an unchanged item whose job still exists (a rerun while workers are
 *   busy) adds nothing.
 * - An edited input line is answered with its new request only: the job carries the line's hash, the
 *   worker puts it in the line it publishes, and the collector drops a line made from another hash (a
 *   job of an earlier run, still queued or running when the line was edited). Enqueueing an item whose
 *   latest job (recorded in `<prefix>:<queue>:hashes:<runId>`) was made from another hash removes that
 *   job if it is still waiting (a running one finishes; its line is dropped) and adds the new one under
 *   its own job id, so the output gets the new line once.
 * - The results stream survives the collector: a rerun with the same `runId` first reads the lines
 *   already there (items finished while no collector ran) and enqueues only the others. Entries are
 *   deleted once handed to the runner, so the stream holds only lines not yet in the output (a line
 *   the runner had not flushed when the collector died is sent again by the rerun, not lost).
 * - Exactly one line per `custom_id`: a job run twice (its worker killed after publishing its line but
 *   before BullMQ marked it done) publishes twice; the collector keeps the first.
 * - A collector without Redis for `redisDownTimeoutMs` (default 60 s; no connection, or never
 *   connected) fails with {@link QueueRedisDownError} naming the URL (password hidden): rerun the same
 *   command once Redis is back to resume.
 * - One collector per run at a time: it holds `<prefix>:<queue>:collector:<runId>` in Redis while it
 *   runs; a second one is refused at once with BatchLockedError naming the key (see `queue-lock.ts`).
 * - A stop (`signal`, Ctrl-C) stops enqueueing; the lines of the items already queued are still
 *   collected until `abortInFlight` (the runner's drain timeout or a second Ctrl-C). Jobs still queued
 *   then stay and keep running on the workers; their lines wait in the stream for the rerun. Once every
 *   item is emitted, the stream is deleted.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { inputHashOf } from '../input.js';
import { lockCollector } from '../queue-lock.js';
import {
  checkRunId,
  connectRedis,
  hashesKey,
  jobIdOf,
  loadQueueModules,
  type QueueConnectionOptions,
  type QueueJobData,
  QueueRedisDownError,
  RESULTS_TTL_S,
  resolveQueue,
  resultsKey,
} from '../queue-redis.js';
import type { BatchExecutor, BatchExecutorContext, BatchItem, BatchOutputLine } from '../types.js';

/** Options of {@link queueExecutor}. */
export interface QueueExecutorOptions extends QueueConnectionOptions {
  /**
   * The run's id: names its jobs and its results stream. Give the same id to a rerun to resume (the CLI
   * derives it from the output file's absolute path). 1-64 characters of `A-Z a-z 0-9 _ .`.
   * Default: a random id (a restarted collector then starts over).
   */
  runId?: string | undefined;
  /**
   * Items enqueued whose lines have not come back yet, at most (bounds Redis memory and the collector's
   * set of ids); enqueueing waits for lines below it. Default 10,000.
   */
  maxPending?: number | undefined;
  /** How long one blocking read of the results stream waits, in ms. Default 1,000. */
  blockMs?: number | undefined;
  /**
   * How long the collector waits for its Redis, in ms: once either of its connections has been down (or
   * never up) this long, `run` rejects with {@link QueueRedisDownError}. Meanwhile ioredis reconnects
   * by itself. Default 60,000.
   */
  redisDownTimeoutMs?: number | undefined;
  /** Called with Redis connection errors (ioredis reconnects by itself). Default: ignored. */
  onError?: ((error: Error) => void) | undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Jobs per `addBulk` call. */
const ENQUEUE_CHUNK = 500;
/** Entries per stream read. */
const READ_COUNT = 1000;

type StreamEntries = [id: string, fields: string[]][];
type RedisConn = ReturnType<typeof connectRedis>;

/** Whether `line` answers the input line of hash `hash` ('' : the runner gave none, any line does). */
function answers(line: BatchOutputLine, hash: string): boolean {
  return hash === '' || line.input_hash === undefined || line.input_hash === hash;
}

function lineOf(fields: string[]): BatchOutputLine | undefined {
  const i = fields.indexOf('line');
  const text = i >= 0 ? fields[i + 1] : undefined;
  if (text === undefined) return undefined;
  try {
    const line = JSON.parse(text) as BatchOutputLine;
    return typeof line?.custom_id === 'string' ? line : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `queue` executor (see the module's doc). Nothing connects until `run`.
 *
 * @throws AiwireError for a bad `redis` URL, queue name, prefix or `runId`; TypeError for a
 *   `maxPending` / `blockMs` / `redisDownTimeoutMs` that is not a whole number >= 1. `run` rejects with
 *   AiwireError when `bullmq` / `ioredis` are not installed, with BatchLockedError when another
 *   collector of the same `runId` is running, and with QueueRedisDownError after `redisDownTimeoutMs`
 *   without Redis.
 */
export function queueExecutor(options: QueueExecutorOptions): BatchExecutor {
  const q = resolveQueue(options);
  const runId = checkRunId(options.runId ?? randomBytes(9).toString('base64url').replace(/-/g, '_'));
  const whole = (name: string, v: number | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    if (!Number.isInteger(v) || v < 1) {
      throw new TypeError(`queueExecutor: ${name} must be a whole number >= 1, got ${String(v)}`);
    }
    return v;
  };
  const maxPending = whole('maxPending', options.maxPending, 10_000);
  const blockMs = whole('blockMs', options.blockMs, 1_000);
  const downTimeoutMs = whole('redisDownTimeoutMs', options.redisDownTimeoutMs, 60_000);
  const userOnError = options.onError ?? (() => {});

  return {
    name: 'queue',
    async run(items: AsyncIterable<BatchItem>, ctx: BatchExecutorContext): Promise<void> {
      const mods = await loadQueueModules();
      let lastError: string | undefined;
      const onError = (e: Error) => {
        lastError = e.message;
        userOnError(e);
      };
      const conn = connectRedis(mods, q.redis, onError);
      const reader = connectRedis(mods, q.redis, onError);
      // Since when each connection is down (from the start: not connected yet).
      const downSince = new Map<RedisConn, number>();
      for (const c of [conn, reader]) {
        downSince.set(c, performance.now());
        c.on('ready', () => downSince.delete(c));
        c.on('close', () => {
          if (!downSince.has(c)) downSince.set(c, performance.now());
        });
      }
      let redisDown: QueueRedisDownError | undefined;
      let giveUp: () => void = () => {};
      const gaveUp = new Promise<void>((r) => (giveUp = r));
      const watchdog = setInterval(
        () => {
          const since = Math.min(Infinity, ...downSince.values());
          if (redisDown || performance.now() - since < downTimeoutMs) return;
          redisDown = new QueueRedisDownError(q.redis, performance.now() - since, lastError);
          // Commands waiting through the reconnect fail now ("Connection is closed").
          reader.disconnect();
          conn.disconnect();
          giveUp();
        },
        Math.max(20, Math.min(1000, Math.floor(downTimeoutMs / 4))),
      );
      watchdog.unref();
      const queue = new mods.bullmq.Queue<QueueJobData>(q.queue, { connection: conn, prefix: q.prefix });
      queue.on('error', onError);
      const key = resultsKey(q, runId);
      const hashes = hashesKey(q, runId);
      // Lines read for items not (yet) enqueued by this collector: finished before it started, or
      // published while their item was still on its way from the input. Used when the item comes (the
      // one made from its input line's hash; the others are deleted).
      const early = new Map<string, { entry: string; line: BatchOutputLine }[]>();
      const keepEarly = (entry: string, line: BatchOutputLine) => {
        const list = early.get(line.custom_id);
        if (list) list.push({ entry, line });
        else early.set(line.custom_id, [{ entry, line }]);
      };
      /** Items enqueued whose line has not come yet: `custom_id` -> its input line's hash ('' : none). */
      const pending = new Map<string, string>();
      let lastId = '0-0';
      let inputDone = false;
      let wake: (() => void) | undefined;
      const progressed = () => {
        wake?.();
        wake = undefined;
      };
      const stopped = new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      // A stop while the collector blocks on the stream: wake the loop so it sees the state.
      const onHard = () => progressed();
      ctx.abortInFlight.addEventListener('abort', onHard, { once: true });

      /**
       * One result from the stream: emitted if its item is pending and it answers the item's input line
       * (then its entry is deleted, so the stream only ever holds lines not yet handed to the runner),
       * deleted if it answers an older version of a pending item's line, kept for later if the item is
       * not yet seen. Returns whether its entry is to be deleted.
       */
      const take = async (entry: string, line: BatchOutputLine): Promise<boolean> => {
        const hash = pending.get(line.custom_id);
        if (hash === undefined) {
          keepEarly(entry, line);
          return false;
        }
        if (!answers(line, hash)) return true;
        pending.delete(line.custom_id);
        await ctx.emit(line);
        return true;
      };

      const collect = async () => {
        // After a stop (`signal`) the items already queued still finish on the workers: collect their
        // lines until none is pending or `abortInFlight` (the drain timeout, a second Ctrl-C).
        while (!ctx.abortInFlight.aborted && !(inputDone && pending.size === 0)) {
          const res = (await reader.xread('COUNT', READ_COUNT, 'BLOCK', blockMs, 'STREAMS', key, lastId)) as
            | [string, StreamEntries][]
            | null;
          const taken: string[] = [];
          const done: string[] = [];
          for (const [, entries] of res ?? []) {
            for (const [id, fields] of entries) {
              lastId = id;
              const line = lineOf(fields);
              if (line && (await take(id, line))) {
                taken.push(id);
                if (!pending.has(line.custom_id)) done.push(line.custom_id);
              }
            }
          }
          if (taken.length > 0) await conn.xdel(key, ...taken);
          if (done.length > 0) await conn.hdel(hashes, ...done);
          progressed();
        }
      };

      const enqueue = async (failed: () => boolean) => {
        let batch: { name: string; data: QueueJobData; opts: { jobId: string } }[] = [];
        let lastFlush = performance.now();
        const flush = async () => {
          lastFlush = performance.now();
          if (batch.length === 0) return;
          const jobs = batch;
          batch = [];
          // Jobs of these ids made from another version of their input line (an earlier run's, edited
          // since): removed if still waiting (a running one's line is dropped by `take`).
          const before = await conn.hmget(hashes, ...jobs.map((j) => j.data.item.custom_id));
          for (const [i, j] of jobs.entries()) {
            const old = before[i];
            if (old === null || old === undefined || old === (j.data.hash ?? '')) continue;
            await queue.remove(jobIdOf(runId, j.data.item.custom_id, old || undefined)).catch(onError);
          }
          // Only items still pending: a line taken meanwhile (from a job an earlier run left) answers
          // its item. Filtered in the same tick as the HSET is sent, so a line taken later has its
          // HDEL sent after it, and the worker, finding no hash, does not send that job again.
          const wanted = jobs.filter((j) => pending.get(j.data.item.custom_id) === (j.data.hash ?? ''));
          if (wanted.length === 0) return;
          await conn
            .multi()
            .hset(hashes, ...wanted.flatMap((j) => [j.data.item.custom_id, j.data.hash ?? '']))
            .expire(hashes, RESULTS_TTL_S)
            .exec();
          await queue.addBulk(
            wanted.map((j) => ({
              ...j,
              opts: { ...j.opts, removeOnComplete: true, removeOnFail: true, attempts: 1 },
            })),
          );
        };
        for await (const item of items) {
          if (ctx.signal.aborted || failed()) break;
          const hash = inputHashOf(item) ?? '';
          const lines = early.get(item.custom_id);
          if (lines) {
            // Lines already published for this id: the one answering this input line is its line; lines
            // made from another version of it (edited since) are dropped.
            early.delete(item.custom_id);
            const done = lines.find((l) => answers(l.line, hash));
            if (done) await ctx.emit(done.line);
            await conn.xdel(key, ...lines.map((l) => l.entry));
            if (done) {
              await conn.hdel(hashes, item.custom_id);
              continue;
            }
          }
          pending.set(item.custom_id, hash);
          batch.push({
            name: 'item',
            data: { run: runId, item, ...(hash ? { hash } : {}) },
            opts: { jobId: jobIdOf(runId, item.custom_id, hash || undefined) },
          });
          // Full chunks, or what a slow input gave in the last 200 ms.
          if (batch.length >= ENQUEUE_CHUNK || performance.now() - lastFlush > 200) await flush();
          while (pending.size >= maxPending && !ctx.signal.aborted && !failed()) {
            await flush();
            await Promise.race([new Promise<void>((r) => (wake = r)), stopped]);
          }
        }
        if (ctx.signal.aborted || failed()) {
          // Stopped: the items not sent to Redis yet are not pending (the runner leaves them unwritten).
          for (const j of batch) pending.delete(j.data.item.custom_id);
          batch = [];
        } else {
          await flush();
        }
        inputDone = true;
      };

      let unlock: (() => Promise<void>) | undefined;
      const main = async () => {
        // One collector per run (see queue-lock.ts): a second one fails here, before touching anything.
        unlock = await lockCollector(conn, q, runId, onError);
        // Lines already in the stream (a rerun): read them all before enqueueing anything.
        for (;;) {
          const entries = (await conn.xrange(key, `(${lastId}`, '+', 'COUNT', READ_COUNT)) as StreamEntries;
          for (const [id, fields] of entries) {
            lastId = id;
            const line = lineOf(fields);
            if (line) keepEarly(id, line);
          }
          if (entries.length < READ_COUNT) break;
        }
        // A failing collector (a write error from `emit`) must not leave the enqueuer waiting for room.
        let collectFailure: { error: unknown } | undefined;
        const collecting = collect().catch((error: unknown) => {
          collectFailure = { error };
          progressed();
        });
        try {
          await enqueue(() => collectFailure !== undefined);
        } catch (e) {
          inputDone = true;
          pending.clear();
          await collecting;
          throw e;
        }
        await collecting;
        if (collectFailure) throw collectFailure.error;
        if (pending.size === 0 && !ctx.signal.aborted) await conn.del(key, hashes);
      };
      try {
        const running = main();
        await Promise.race([running, gaveUp]);
        if (redisDown) {
          // The connections are closed; a command `main` waits on may never settle (ioredis keeps the
          // commands of a connection closed while reconnecting): it is left behind.
          running.catch(() => {});
          throw redisDown;
        }
        await running;
      } catch (e) {
        // A command that failed because the watchdog closed the connections: the real cause is Redis.
        throw redisDown ?? e;
      } finally {
        clearInterval(watchdog);
        ctx.abortInFlight.removeEventListener('abort', onHard);
        if (redisDown) {
          // Nothing to wait for: the lock expires by itself.
          void unlock?.();
          void queue.close().catch(() => {});
        } else {
          await unlock?.();
          await Promise.race([queue.close().catch(() => {}), sleep(2000)]);
        }
        reader.disconnect();
        conn.disconnect();
      }
    },
  };
}
