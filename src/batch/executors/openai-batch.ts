/**
 * OpenAI's Batch API (https://platform.openai.com/docs/guides/batch) as a {@link ProviderBatchAPI}:
 * each chunk is written as a JSONL input file (`{ custom_id, method, url, body }` lines) uploaded
 * with `files.create({ purpose: 'batch' })`, then `batches.create({ input_file_id, endpoint,
 * completion_window: '24h', metadata })` (`metadata`: `created_by`, and the run's tag `aiwire_run` /
 * `aiwire_chunk`, by which a rerun finds a batch whose create it did not record); the batch is retrieved until `completed`, `failed`, `expired` or
 * `cancelled`; its output file then its error file are read line by line. Output lines already have
 * aiwire's output shape; a non-2xx `response` gets the typed error the client would throw for it,
 * a line without a response (`batch_expired`, `batch_cancelled`, …) a `ProviderBatchError`.
 * Limits: 50,000 requests and 200 MB per input file; one endpoint per batch.
 */
import { createReadStream } from 'node:fs';
import { decodeJSONL } from '../../core/jsonl.js';
import type { Uploadable } from '../../core/uploads.js';
import type { OpenAI } from '../../providers/openai/index.js';
import { openAISpec } from '../../providers/openai/spec.js';
import { outputLineId } from '../send-item.js';
import type { BatchItem, BatchItemError, BatchOutputLine } from '../types.js';
import { writeSpool } from './batch-chunks.js';
import {
  batchRequestError,
  errorLine,
  invalidInput,
  type ProviderBatchAPI,
  type RemoteBatch,
  SEARCH_LIMIT,
} from './provider-api.js';

/** The endpoints OpenAI's Batch API runs (`CreateBatchRequest.endpoint`). */
export const OPENAI_BATCH_ENDPOINTS = [
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/completions',
  '/v1/moderations',
  '/v1/images/generations',
  '/v1/images/edits',
  '/v1/videos',
] as const;

type Endpoint = (typeof OPENAI_BATCH_ENDPOINTS)[number];
const ENDPOINTS = new Set<string>(OPENAI_BATCH_ENDPOINTS);
const ENDED = new Set(['completed', 'failed', 'expired', 'cancelled']);
/** Errors of lines OpenAI did not run that running again may fix. */
const RETRYABLE_CODES = new Set(['batch_expired', 'batch_cancelled']);

interface ResultLine {
  id?: string;
  custom_id: string;
  response: { status_code: number; request_id?: string | null; body: unknown } | null;
  error: { code?: string | null; message?: string | null } | null;
}

/** The OpenAI Batch API driven through `client`. */
export function openAIBatchAPI(client: OpenAI): ProviderBatchAPI {
  return {
    provider: 'openai',
    defaultMaxRequests: 50_000,
    defaultMaxBytes: 200_000_000,
    overheadBytes: 0,
    separatorBytes: 1,

    groupOf(item: BatchItem): string | BatchItemError {
      if (!ENDPOINTS.has(item.url)) {
        return invalidInput(
          `line ${item.line}: OpenAI's Batch API does not run ${item.url}; it runs ${OPENAI_BATCH_ENDPOINTS.join(', ')} (use --via local for other operations)`,
          item.line,
        );
      }
      if (item.method !== 'POST') {
        return invalidInput(
          `line ${item.line}: OpenAI's Batch API runs POST requests only, not ${item.method}`,
          item.line,
        );
      }
      if (!item.body || typeof item.body !== 'object' || Array.isArray(item.body)) {
        return invalidInput(`line ${item.line}: a Batch API request needs a JSON object body`, item.line);
      }
      if ((item.body as { stream?: unknown }).stream === true) {
        return invalidInput(
          `line ${item.line}: Batch API requests cannot stream: remove "stream": true`,
          item.line,
        );
      }
      return item.url;
    },

    acceptsId: () => true,

    encode(item, remoteId) {
      return JSON.stringify({ custom_id: remoteId, method: 'POST', url: item.url, body: item.body });
    },

    spools: true,

    async create(chunk, signal, tag) {
      let file: Uploadable;
      if (chunk.spool) {
        // The first requests are in the temporary file: add the rest, then upload it from disk.
        await writeSpool(chunk);
        await chunk.spool.handle.close();
        file = createReadStream(chunk.spool.path);
      } else {
        file = new File([`${chunk.encoded.join('\n')}\n`], 'aiwire-batch-input.jsonl', {
          type: 'application/jsonl',
        });
      }
      const uploaded = await client.files.create({ file, purpose: 'batch' }, { signal });
      const batch = await client.batches.create({
        input_file_id: uploaded.id,
        endpoint: chunk.group as Endpoint,
        completion_window: '24h',
        metadata: { created_by: 'aiwire batch', aiwire_run: tag.run, aiwire_chunk: String(tag.chunk) },
      });
      return batch.id;
    },

    async newestBatchId(signal) {
      for await (const b of client.batches.list({ limit: 1 }, { signal })) return b.id;
      return null;
    },

    async findCreated(intent, tag, _known, signal) {
      // The tag in `metadata` names the batch exactly.
      let seen = 0;
      for await (const b of client.batches.list({ limit: 100 }, { signal })) {
        if (b.id === intent.newest_before || ++seen > SEARCH_LIMIT) break;
        const m = b.metadata as Record<string, string> | null | undefined;
        if (m?.aiwire_run === tag.run && m?.aiwire_chunk === String(tag.chunk))
          return { id: b.id, ambiguous: [] };
      }
      return { id: null, ambiguous: [] };
    },

    async retrieve(id, signal) {
      const { data: batch, response } = await client.batches.retrieve(id, { signal }).withResponse();
      const header = Number.parseInt(response.headers.get('openai-poll-after-ms') ?? '', 10);
      let failure: BatchItemError | undefined;
      if (batch.status === 'failed') {
        const reasons = (batch.errors?.data ?? []).map(
          (e) => `${e.line != null ? `line ${e.line}: ` : ''}${e.message ?? e.code ?? ''}`,
        );
        failure = batchRequestError(
          'batch_failed',
          `OpenAI batch ${id} failed${reasons.length ? `: ${reasons.join('; ')}` : ''}`,
          false,
        );
      }
      return {
        id,
        status: batch.status,
        ended: ENDED.has(batch.status),
        requestCounts: batch.request_counts as Record<string, number> | undefined,
        failure,
        pollAfterMs: Number.isNaN(header) || header < 0 ? undefined : header,
        raw: batch,
      };
    },

    async *results(remote: RemoteBatch, signal): AsyncGenerator<BatchOutputLine> {
      const batch = remote.raw as { output_file_id?: string | null; error_file_id?: string | null };
      for (const fileId of [batch.output_file_id, batch.error_file_id]) {
        if (!fileId) continue;
        const response = await client.files.content(fileId, { signal });
        for await (const line of decodeJSONL<ResultLine>(response, signal)) yield toLine(line, remote.id);
      }
    },
  };
}

/** An output or error file line → aiwire's output line (custom_id still the batch's id). */
function toLine(line: ResultLine, batchId: string): BatchOutputLine {
  const id = line.id ?? outputLineId();
  const r = line.response;
  if (r) {
    const requestId = r.request_id ?? null;
    if (r.status_code >= 200 && r.status_code < 300) {
      return {
        id,
        custom_id: line.custom_id,
        response: { status_code: r.status_code, request_id: requestId, body: r.body },
        error: null,
      };
    }
    return errorLine(openAISpec, id, line.custom_id, r.status_code, r.body, requestId);
  }
  const code = line.error?.code ?? 'batch_error';
  const message = line.error?.message ?? `OpenAI batch ${batchId} did not run this request`;
  return {
    id,
    custom_id: line.custom_id,
    response: null,
    error: batchRequestError(code, message, RETRYABLE_CODES.has(code)),
  };
}
