/**
 * Anthropic's Message Batches API (https://docs.anthropic.com/en/docs/build-with-claude/batch-processing)
 * as a {@link ProviderBatchAPI}: each chunk is one `messages.batches.create({ requests: [{ custom_id,
 * params }] })` (the item's body is `params`; past `spoolAfterBytes` the requests go to a temporary
 * file and the create body is written to disk and streamed from there by the engine, so a 256 MB
 * batch does not sit in memory); the batch is retrieved until `processing_status` is
 * `ended`; `messages.batches.results()` is read line by line. `succeeded` → `response: { status_code:
 * 200, request_id: null, body: <the Message> }`; `errored` → the status of its error type
 * (`invalid_request_error` 400, `rate_limit_error` 429, `overloaded_error` 529, …) and the typed error
 * the client would throw for that answer; `canceled` / `expired` → a retryable `ProviderBatchError`
 * (`batch_canceled`, `batch_expired`). Limits: 100,000 requests and 256 MB per batch; `custom_id`
 * 1–64 characters of `[A-Za-z0-9_-]` (other ids are renamed in the batch and mapped back).
 *
 * Message batches carry no metadata, so the batch of an unrecorded create (a run killed between the
 * create and its state write) is found by {@link findAnthropicBatch}: among the batches listed after
 * the one that was newest just before the create, those not recorded with the same number of
 * requests; an ended one is confirmed by the `custom_id`s of its results; otherwise exactly one
 * candidate is adopted, and several are reported as ambiguous (none adopted, the items are sent in a
 * new batch).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Anthropic } from '../../providers/anthropic/index.js';
import { anthropicSpec, ERROR_STATUS } from '../../providers/anthropic/spec.js';
import { outputLineId } from '../send-item.js';
import type { BatchItem, BatchItemError, BatchOutputLine } from '../types.js';
import { type Chunk, writeSpool } from './batch-chunks.js';
import type { BatchIntent } from './batch-state.js';
import {
  batchRequestError,
  errorLine,
  type FoundBatch,
  invalidInput,
  type ProviderBatchAPI,
  SEARCH_LIMIT,
} from './provider-api.js';

/** How far the provider's clock may be behind ours when a search has no newest batch to stop at, ms. */
const CLOCK_SKEW_MS = 10 * 60_000;
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

    spools: true,

    async create(chunk, signal) {
      if (signal.aborted) throw signal.reason;
      const headers = { 'content-type': 'application/json' };
      if (!chunk.spool) {
        // Small (under spoolAfterBytes): the requests are already JSON, sent as that text.
        const body = `${PREFIX}${chunk.encoded.join(',')}]}`;
        return (await client.post<{ id: string }>('/v1/messages/batches', { body, headers })).id;
      }
      // Large: the body is written to a file next to the spool and the engine streams it from disk.
      const bodyFile = await writeBodyFile(chunk);
      try {
        return (await client.post<{ id: string }>('/v1/messages/batches', { bodyFile, headers })).id;
      } finally {
        await rm(bodyFile, { force: true });
      }
    },

    async newestBatchId(signal) {
      for await (const b of client.messages.batches.list({ limit: 1 }, { signal })) return b.id;
      return null;
    },

    findCreated: (intent, _tag, known, signal) => findAnthropicBatch(client, intent, known, signal),

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

/**
 * Write the create body of a spooled chunk, `{"requests":[<entry>,…]}`, to `<spool>.body.json`: the
 * spool's lines (one encoded request each), then the requests still in memory, joined by commas,
 * streamed so that memory stays flat whatever the batch size. Resolves to the file's path.
 * @throws the file system's error (ENOSPC); the partial file is removed.
 */
async function writeBodyFile(chunk: Chunk): Promise<string> {
  const spool = chunk.spool as NonNullable<Chunk['spool']>;
  await writeSpool(chunk);
  await spool.handle.close();
  const path = `${spool.path}.body.json`;
  let first = true;
  async function* pieces(): AsyncGenerator<string> {
    yield PREFIX;
    const lines = createInterface({
      input: createReadStream(spool.path, { encoding: 'utf8' }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) {
      if (line === '') continue;
      yield first ? line : `,${line}`;
      first = false;
    }
    yield ']}';
  }
  try {
    await pipeline(Readable.from(pieces()), createWriteStream(path));
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  }
  return path;
}

/**
 * The message batch made for `intent` (see the file comment): listed newest first down to
 * `intent.newest_before` (at most {@link SEARCH_LIMIT}; when it is unknown, down to 10 minutes before
 * `intent.at`), not in `known`, with as many requests as the
 * intent; an ended one whose results hold exactly the intent's request ids is it; else the only
 * candidate still processing, if there is exactly one.
 */
export async function findAnthropicBatch(
  client: Anthropic,
  intent: BatchIntent,
  known: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<FoundBatch> {
  const remoteOf = new Map(Object.entries(intent.renamed ?? {}).map(([remote, custom]) => [custom, remote]));
  const want = new Set(intent.custom_ids.map((c) => remoteOf.get(c) ?? c));
  const candidates: { id: string; ended: boolean }[] = [];
  let seen = 0;
  for await (const b of client.messages.batches.list({ limit: 100 }, { signal })) {
    if (b.id === intent.newest_before || ++seen > SEARCH_LIMIT) break;
    if (known.has(b.id)) continue;
    // Without a newest batch to stop at: only batches created from 10 minutes before the intent on.
    if (
      intent.newest_before === undefined &&
      Date.parse(b.created_at) < Date.parse(intent.at) - CLOCK_SKEW_MS
    )
      break;
    const c = b.request_counts;
    const total = c.processing + c.succeeded + c.errored + c.canceled + c.expired;
    if (total === want.size) candidates.push({ id: b.id, ended: b.processing_status === 'ended' });
  }
  const open: string[] = [];
  for (const c of candidates) {
    if (!c.ended) {
      open.push(c.id);
      continue;
    }
    let match = true;
    let n = 0;
    try {
      for await (const r of await client.messages.batches.results(c.id, { signal })) {
        n += 1;
        if (!want.has(r.custom_id)) {
          match = false;
          break;
        }
      }
    } catch {
      match = false; // results gone (29 days) or unreadable: not confirmed
    }
    if (match && n === want.size) return { id: c.id, ambiguous: [] };
  }
  if (open.length === 1) return { id: open[0] as string, ambiguous: [] };
  return { id: null, ambiguous: open };
}
