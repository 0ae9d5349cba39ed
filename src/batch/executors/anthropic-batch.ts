/**
 * Anthropic's Message Batches API (https://docs.anthropic.com/en/docs/build-with-claude/batch-processing)
 * as a {@link ProviderBatchAPI}: each chunk is one `messages.batches.create({ requests: [{ custom_id,
 * params }] })` (the item's body is `params`); the batch is retrieved until `processing_status` is
 * `ended`; `messages.batches.results()` is read line by line. `succeeded` → `response: { status_code:
 * 200, request_id: null, body: <the Message> }`; `errored` → the status of its error type
 * (`invalid_request_error` 400, `rate_limit_error` 429, `overloaded_error` 529, …) and the typed error
 * the client would throw for that answer; `canceled` / `expired` → a retryable `ProviderBatchError`
 * (`batch_canceled`, `batch_expired`). Limits: 100,000 requests and 256 MB per batch; `custom_id`
 * 1–64 characters of `[A-Za-z0-9_-]` (other ids are renamed in the batch and mapped back).
 */
import type { Anthropic } from '../../providers/anthropic/index.js';
import { anthropicSpec, ERROR_STATUS } from '../../providers/anthropic/spec.js';
import { outputLineId } from '../send-item.js';
import type { BatchItem, BatchItemError, BatchOutputLine } from '../types.js';
import { batchRequestError, errorLine, invalidInput, type ProviderBatchAPI } from './provider-api.js';

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const PREFIX = '{"requests":[';

/** The Message Batches API driven through `client`. */
export function anthropicBatchAPI(client: Anthropic): ProviderBatchAPI {
  return {
    provider: 'anthropic',
    defaultMaxRequests: 100_000,
    defaultMaxBytes: 256_000_000,
    overheadBytes: PREFIX.length + 2,
    separatorBytes: 1,

    groupOf(item: BatchItem): string | BatchItemError {
      if (item.url !== '/v1/messages') {
        return invalidInput(
          `line ${item.line}: Anthropic's Message Batches API runs /v1/messages only, not ${item.url} (use --via local for other operations)`,
          item.line,
        );
      }
      if (item.method !== 'POST') {
        return invalidInput(
          `line ${item.line}: Message Batches run POST requests only, not ${item.method}`,
          item.line,
        );
      }
      if (!item.body || typeof item.body !== 'object' || Array.isArray(item.body)) {
        return invalidInput(
          `line ${item.line}: a Message Batches request needs a JSON object body`,
          item.line,
        );
      }
      if ((item.body as { stream?: unknown }).stream === true) {
        return invalidInput(
          `line ${item.line}: Message Batches requests cannot stream: remove "stream": true`,
          item.line,
        );
      }
      return item.url;
    },

    acceptsId: (id) => CUSTOM_ID.test(id),

    encode(item, remoteId) {
      return JSON.stringify({ custom_id: remoteId, params: item.body });
    },

    spools: false,

    async create(chunk, signal) {
      if (signal.aborted) throw signal.reason;
      // The requests are already JSON: the body is sent as that text, not parsed and written again.
      const body = `${PREFIX}${chunk.encoded.join(',')}]}`;
      const batch = await client.post<{ id: string }>('/v1/messages/batches', {
        body,
        headers: { 'content-type': 'application/json' },
      });
      return batch.id;
    },

    async retrieve(id, signal) {
      const batch = await client.messages.batches.retrieve(id, { signal });
      return {
        id,
        status: batch.processing_status,
        ended: batch.processing_status === 'ended',
        requestCounts: batch.request_counts as unknown as Record<string, number>,
        raw: batch,
      };
    },

    async *results(remote, signal): AsyncGenerator<BatchOutputLine> {
      const decoder = await client.messages.batches.results(remote.id, { signal });
      for await (const entry of decoder) {
        const result = entry.result;
        const id = outputLineId();
        if (result.type === 'succeeded') {
          yield {
            id,
            custom_id: entry.custom_id,
            response: { status_code: 200, request_id: null, body: result.message },
            error: null,
          };
        } else if (result.type === 'errored') {
          const envelope = result.error as { error?: { type?: string }; request_id?: string | null };
          const status = ERROR_STATUS[envelope.error?.type ?? ''] ?? 500;
          const { request_id, ...body } = envelope;
          yield errorLine(anthropicSpec, id, entry.custom_id, status, body, request_id ?? null);
        } else {
          const what = result.type === 'canceled' ? 'canceled' : 'expired';
          yield {
            id,
            custom_id: entry.custom_id,
            response: null,
            error: batchRequestError(
              `batch_${what}`,
              `Anthropic message batch ${remote.id} ${what} before this request ran; run again to resubmit it`,
              true,
            ),
          };
        }
      }
    },
  };
}
