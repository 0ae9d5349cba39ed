/**
 * `batchChat`: many chats with at most `concurrency` in flight, results in input order, one failure
 * per item instead of one for the batch (the seed's `ConcurrentAIVillageClient::batch_chat`, whose
 * semaphore bounds the calls in flight). Each chat is an ordinary `client.chat()` call: its own
 * `Idempotency-Key`, reused by its retries, and the client's retry, rate-limit and breaker settings.
 */
import type { RequestOptions } from '../../../core/client.js';
import { AiwireError } from '../../../core/errors.js';
import type { ChatParams, ChatResponse } from '../resources/top-level.js';

/** Options of `client.batchChat()`. */
export interface BatchChatOptions {
  /** Chats in flight at once: a whole number >= 1. Default 5. */
  concurrency?: number | undefined;
  /**
   * Fields sent with every item (`agent_preference`, `mode`, `user_context`, `conversation_id`); an
   * item given as an object overrides them field by field. Default none (the server's defaults:
   * agent `any`, mode `balanced`).
   */
  defaults?: Omit<ChatParams, 'message'> | undefined;
  /**
   * Request options of every chat (`timeout` ms, `maxRetries`, `headers`, `signal`). When `signal`
   * aborts, the chats in flight and the ones not sent yet end as `APIUserAbortError` rejections.
   * Each chat gets its own `Idempotency-Key` (an `idempotencyKey` here is ignored: one key for
   * different messages would make the server answer them all with the first one's response).
   */
  requestOptions?: RequestOptions | undefined;
}

/** What `batchChat` needs of the client. */
export interface ChatSender {
  chat(body: ChatParams, options?: RequestOptions): PromiseLike<ChatResponse>;
}

/**
 * Send every message as a chat, at most `options.concurrency` at a time, and resolve (never reject)
 * to one `PromiseSettledResult` per message, in the order given: `{ status: 'fulfilled', value }` or
 * `{ status: 'rejected', reason }` (the typed error of that chat).
 * @param messages the messages: text (sent as `{ message }` over `options.defaults`) or whole chat
 *   requests.
 * @throws AiwireError (synchronously rejected) when `concurrency` is not a whole number >= 1.
 */
export async function batchChat(
  client: ChatSender,
  messages: ReadonlyArray<string | ChatParams>,
  options: BatchChatOptions = {},
): Promise<PromiseSettledResult<ChatResponse>[]> {
  const concurrency = options.concurrency ?? 5;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new AiwireError(`batchChat: concurrency must be a whole number >= 1, got ${String(concurrency)}`);
  }
  const { idempotencyKey: _ignored, ...requestOptions } = options.requestOptions ?? {};
  const results = new Array<PromiseSettledResult<ChatResponse>>(messages.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < messages.length; i = next++) {
      const item = messages[i] as string | ChatParams;
      const body: ChatParams =
        typeof item === 'string' ? { ...options.defaults, message: item } : { ...options.defaults, ...item };
      try {
        results[i] = { status: 'fulfilled', value: await client.chat(body, requestOptions) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, messages.length) }, worker));
  return results;
}
