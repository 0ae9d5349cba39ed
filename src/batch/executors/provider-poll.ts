/**
 * Polling one provider batch until it ends ({@link pollBatch}): one timer per wait, never a busy loop.
 * The wait is `pollIntervalMs` when given, else the server's hint (OpenAI's `openai-poll-after-ms`),
 * else 1,000 ms doubling after each poll up to 60,000 ms (batches of a few requests end in seconds,
 * big ones in hours). A retrieve that fails with a connection error, a timeout, 408, 409, 429 or a 5xx
 * (after the client's own retries) is tried again at the next poll, up to
 * {@link MAX_FAILED_POLLS} times in a row.
 */
import { APIError } from '../../core/errors.js';
import { sleep } from '../../providers/openai/lib/polling.js';
import type { ProviderBatchAPI, RemoteBatch } from './provider-api.js';

/** Retrieves in a row that may fail (retryable errors) before polling gives up. */
export const MAX_FAILED_POLLS = 5;
/** First wait of the default schedule, in ms. */
export const FIRST_POLL_MS = 1_000;
/** Longest wait of the default schedule, in ms. */
export const MAX_POLL_MS = 60_000;

function retryable(err: unknown): boolean {
  if (!(err instanceof APIError)) return false;
  const s = err.status;
  if (s === undefined) return err.name === 'APIConnectionError' || err.name === 'APIConnectionTimeoutError';
  return s === 408 || s === 409 || s === 429 || s >= 500;
}

/**
 * Retrieve batch `id` until it has ended; resolves to it. `onPoll` sees each retrieved state.
 * @throws (rejects) APIUserAbortError when `signal` aborts a wait or a retrieve; the retrieve's error
 *   when it is not retryable or failed {@link MAX_FAILED_POLLS} times in a row.
 */
export async function pollBatch(
  api: Pick<ProviderBatchAPI, 'retrieve'>,
  id: string,
  signal: AbortSignal,
  pollIntervalMs: number | undefined,
  onPoll: (batch: RemoteBatch) => void,
): Promise<RemoteBatch> {
  let backoff = FIRST_POLL_MS;
  let failed = 0;
  for (;;) {
    let hint: number | undefined;
    try {
      const batch = await api.retrieve(id, signal);
      failed = 0;
      onPoll(batch);
      if (batch.ended) return batch;
      hint = batch.pollAfterMs;
    } catch (err) {
      if (signal.aborted || !retryable(err) || ++failed >= MAX_FAILED_POLLS) throw err;
    }
    const wait = pollIntervalMs ?? hint ?? backoff;
    backoff = Math.min(backoff * 2, MAX_POLL_MS);
    await sleep(wait, signal);
  }
}
