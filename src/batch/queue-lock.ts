/**
 * One collector per queue run: the `queue` executor (`queueExecutor`) holds the Redis key
 * `<prefix>:<queue>:collector:<runId>` while it runs. Two collectors of one run would each delete the
 * results they read from the run's stream, so each output would get some of the lines and wait forever
 * for the others; the second one is refused instead, at once, with a {@link BatchLockedError} naming the
 * key and its holder. (Two runs on one output file on one machine are refused earlier, by the output's
 * `<output>.lock`; this key also covers collectors on other machines, and two outputs given one `runId`.)
 *
 * The key holds `{"host", "pid", "token"}` of its holder and expires {@link COLLECTOR_LOCK_TTL_MS} after
 * its last renewal (renewed every third of that), so a killed collector's lock frees itself; one left by
 * a process of this host that is gone is taken over at once.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { BatchLockedError, processAlive } from './output.js';
import type { QueueModules, ResolvedQueue } from './queue-redis.js';

/** How long the collector's lock outlives its last renewal, in ms (30 s). */
export const COLLECTOR_LOCK_TTL_MS = 30_000;

/** Sets KEYS[1] to ARGV[2] for ARGV[3] ms if it still holds ARGV[1]; returns 1 if it did. */
const SWAP = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;
/** Deletes KEYS[1] if it holds ARGV[1]. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The key of run `runId`'s collector lock. */
export function collectorLockKey(q: ResolvedQueue, runId: string): string {
  return `${q.prefix}:${q.queue}:collector:${runId}`;
}

interface Holder {
  host?: string;
  pid?: number;
  token?: string;
}

/**
 * Takes run `runId`'s collector lock on `conn` and renews it until the returned function releases it.
 * Renewal errors (Redis down a while) go to `onError`; the lock is then taken again at the next renewal
 * if it is free.
 *
 * @returns a function that stops renewing and deletes the lock (if still this collector's).
 * @throws BatchLockedError when another live collector holds it: names the key, the holder's host and
 *   pid, and how to proceed.
 */
export async function lockCollector(
  conn: InstanceType<QueueModules['Redis']>,
  q: ResolvedQueue,
  runId: string,
  onError: (e: Error) => void,
): Promise<() => Promise<void>> {
  const key = collectorLockKey(q, runId);
  const host = hostname();
  const mine = JSON.stringify({ host, pid: process.pid, token: randomBytes(12).toString('base64url') });
  const ttl = String(COLLECTOR_LOCK_TTL_MS);
  let taken = (await conn.set(key, mine, 'PX', COLLECTOR_LOCK_TTL_MS, 'NX')) === 'OK';
  if (!taken) {
    const held = await conn.get(key);
    let holder: Holder = {};
    try {
      holder = JSON.parse(held ?? '{}') as Holder;
    } catch {}
    const gone =
      holder.host === host &&
      Number.isInteger(holder.pid) &&
      holder.pid !== process.pid &&
      !processAlive(holder.pid as number);
    if (held === null) taken = (await conn.set(key, mine, 'PX', COLLECTOR_LOCK_TTL_MS, 'NX')) === 'OK';
    else if (gone) taken = (await conn.eval(SWAP, 1, key, held, mine, ttl)) === 1;
    if (!taken) {
      throw new BatchLockedError(
        `queue run ${runId} already has a collector (pid ${holder.pid ?? '?'} on ${holder.host ?? '?'}; Redis key ${key}): ` +
          'two would split its results between their outputs. Wait for that aiwire batch to finish or stop it (Ctrl-C); ' +
          `if it was killed, its lock expires ${COLLECTOR_LOCK_TTL_MS / 1000} s after it last renewed it (or delete the key: DEL ${key})`,
      );
    }
  }
  const renew = setInterval(() => {
    conn
      .eval(SWAP, 1, key, mine, mine, ttl)
      .then(async (kept) => {
        // Expired while Redis was away: take it again if nobody else did.
        if (kept !== 1) await conn.set(key, mine, 'PX', COLLECTOR_LOCK_TTL_MS, 'NX');
      })
      .catch((e: unknown) => onError(e as Error));
  }, COLLECTOR_LOCK_TTL_MS / 3);
  renew.unref();
  return async () => {
    clearInterval(renew);
    // Bounded: commands wait through reconnects, and a dead Redis must not hold the run's end (the
    // lock then expires by itself).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      conn.eval(RELEASE, 1, key, mine).catch((e: unknown) => onError(e as Error)),
      new Promise<void>((r) => {
        timer = setTimeout(r, 2000);
      }),
    ]);
    clearTimeout(timer);
  };
}
