/**
 * The `local` executor (`aiwire batch --via local`, the default): the items go through this
 * process's clients (one per provider, see `BatchClients`), `concurrency` at a time, with the
 * clients' retries, rate limits (`--rpm`, `--tpm`, `--adaptive`) and breaker.
 */
import { BatchClients } from '../clients.js';
import { sendItem } from '../send-item.js';
import type { BatchExecutor, BatchExecutorContext, BatchItem } from '../types.js';

/** Resolves when `signal` aborts (never rejects). */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * An executor that sends every item from this process: `ctx.concurrency` workers, each taking the
 * next item, sending it (`sendItem`: never rejects) and emitting its line. Stops taking items when
 * `ctx.signal` aborts; when `ctx.abortInFlight` aborts, `run` returns at once and the
 * requests still in flight are dropped (their lines are never written).
 *
 * @param clients the run's clients (not closed here), or the options to build them (closed at the end).
 * @throws (from `run`) the client constructor's error when a provider's API key is missing: a whole
 *   run without a key is a setup mistake, not one failed line per item.
 */
export function localExecutor(
  clients: BatchClients | ConstructorParameters<typeof BatchClients>[0] = {},
): BatchExecutor {
  return {
    name: 'local',
    async run(items: AsyncIterable<BatchItem>, ctx: BatchExecutorContext): Promise<void> {
      const own = !(clients instanceof BatchClients);
      const pool = clients instanceof BatchClients ? clients : new BatchClients(clients);
      const it = items[Symbol.asyncIterator]();
      let failure: unknown;
      const worker = async (): Promise<void> => {
        while (!ctx.signal.aborted && failure === undefined) {
          const next = await it.next();
          if (next.done) return;
          const item = next.value;
          let client: ReturnType<BatchClients['for']>;
          try {
            client = pool.for(item);
          } catch (e) {
            failure ??= e;
            await ctx.emit({
              id: '',
              custom_id: item.custom_id,
              response: null,
              error: {
                code: 'aborted',
                message: 'not sent',
                type: 'APIUserAbortError',
                status: null,
                retryable: true,
              },
            });
            return;
          }
          // No signal per request (a cancel token and a listener each cost more than the rest of
          // the item's handling): on `abortInFlight` the run returns without waiting for them, and
          // the runner drops their lines (they stay unwritten, so the next run sends them).
          await ctx.emit(await sendItem(client, item));
        }
      };
      try {
        const workers = Math.max(1, Math.floor(ctx.concurrency));
        const all = Promise.all(Array.from({ length: workers }, worker));
        all.catch(() => {}); // handled below, or abandoned with its requests after abortInFlight
        await Promise.race([all, aborted(ctx.abortInFlight)]);
        if (!ctx.abortInFlight.aborted) await all;
      } finally {
        if (own) pool.close();
      }
      if (failure !== undefined) throw failure;
    },
  };
}
