/**
 * `FileOutput`: a file a model produced, as replicate-javascript's `FileOutput`: a `ReadableStream` of
 * its bytes (read once; `for await` works) with `url()`, `blob()` and `toString()`. Nothing is
 * downloaded until it is read; then the bytes stream through the engine (`binaryResponse`), with the
 * client's retries and timeouts. A file on another host than the API's is fetched without the
 * client's token unless the host is under `replicate.com` (see origins.ts). `data:` URLs are decoded
 * locally.
 */
import type { BaseClient } from '../../../core/client.js';
import { AiwireError } from '../../../core/errors.js';
import { replicateForeignOrigin } from './origins.js';

/** Options of a `FileOutput`. */
export interface FileOutputOptions {
  /** Aborts the download (the read rejects with `APIUserAbortError`). */
  signal?: AbortSignal | undefined;
}

/** A `data:` URL's bytes and type. */
function decodeDataURL(url: string): { bytes: Uint8Array; type: string } {
  const comma = url.indexOf(',');
  if (comma < 0) throw new AiwireError('Invalid data: URL (no comma)');
  const meta = url.slice('data:'.length, comma);
  const payload = url.slice(comma + 1);
  const base64 = /;base64$/i.test(meta);
  const type = (base64 ? meta.slice(0, -';base64'.length) : meta).split(';')[0] || 'text/plain';
  const bytes = base64 ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'utf8');
  return { bytes, type };
}

/** A file produced by a model: a one-shot byte stream plus its URL. */
export class FileOutput extends ReadableStream<Uint8Array> {
  readonly #url: string;
  readonly #state: { type: string };

  /**
   * @param client the client whose engine downloads the bytes.
   * @param url the file's URL (`https:`, `http:` on the client's origin, or `data:`).
   */
  constructor(client: BaseClient, url: string, options: FileOutputOptions = {}) {
    const state = { type: 'application/octet-stream' };
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    const open = async (): Promise<ReadableStreamDefaultReader<Uint8Array>> => {
      if (url.startsWith('data:')) {
        const { bytes, type } = decodeDataURL(url);
        state.type = type;
        return new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().getReader();
      }
      const response = (await client.get<Response>(url, {
        binaryResponse: true,
        foreignOrigin: replicateForeignOrigin,
        signal: options.signal,
      })) as unknown as Response;
      state.type = response.headers.get('content-type') || state.type;
      if (!response.body) return new Blob([]).stream().getReader();
      return response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    };
    super(
      {
        async pull(controller) {
          reader ??= await open();
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        async cancel(reason) {
          await reader?.cancel(reason);
        },
      },
      // Nothing is fetched until the first read.
      { highWaterMark: 0 },
    );
    this.#url = url;
    this.#state = state;
  }

  /** The file's URL. */
  url(): URL {
    return new URL(this.#url);
  }

  /** The bytes, chunk by chunk (`for await`); leaving the loop early cancels the download. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    const reader = this.getReader();
    let done = false;
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) {
          done = true;
          return;
        }
        yield next.value;
      }
    } finally {
      if (!done) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }

  /** The whole file as a Blob (its `type` from the response's `Content-Type`); reads the stream. */
  async blob(): Promise<Blob> {
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    for await (const chunk of this) chunks.push(chunk as Uint8Array<ArrayBuffer>);
    return new Blob(chunks, { type: this.#state.type });
  }

  /** The URL, so `String(output)` and template literals give it (as replicate-javascript). */
  override toString(): string {
    return this.#url;
  }

  /** The URL, so `JSON.stringify(output)` gives URLs. */
  toJSON(): string {
    return this.#url;
  }
}

/**
 * Whether a model output string is a file URL to wrap: `data:` and `https:` URLs (as
 * replicate-javascript), and `http:` URLs when the client itself speaks plain http (a local or test
 * server; never against the https API).
 */
export function isFileURL(client: BaseClient, value: string): boolean {
  if (value.startsWith('data:') || value.startsWith('https:')) return true;
  return value.startsWith('http:') && client.baseURL.startsWith('http:');
}

/**
 * `output` with every file URL string (see {@link isFileURL}), in arrays and plain objects at any
 * depth, replaced by a `FileOutput`; other values kept.
 */
export function transformOutput(
  client: BaseClient,
  output: unknown,
  options: FileOutputOptions = {},
): unknown {
  if (typeof output === 'string')
    return isFileURL(client, output) ? new FileOutput(client, output, options) : output;
  if (Array.isArray(output)) return output.map((v) => transformOutput(client, v, options));
  if (isPlainObject(output)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(output)) out[k] = transformOutput(client, v, options);
    return out;
  }
  return output;
}

/** An object literal (or null-prototype object), not a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}
