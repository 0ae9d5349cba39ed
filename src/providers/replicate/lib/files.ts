/**
 * Files in a prediction's input: every file value (a `File`, `Blob`, `Buffer`, typed array,
 * `ArrayBuffer`, `fs.ReadStream` or any other `Uploadable`), at any depth of arrays and plain objects,
 * is replaced by a URL before the prediction is created, per strategy (replicate-javascript's names):
 *
 * - `upload`: `POST /files` (multipart `content` + `metadata`) and the file's `urls.get`. A file over
 *   Replicate's upload limit (100 MiB) fails with an `AiwireError` before anything is sent.
 * - `data-uri`: a `data:<type>;base64,…` URL in the request body, for files totalling at most
 *   `maxDataUriBytes` (default 1 MiB; above it, an `AiwireError` before anything is sent).
 * - `default`: `upload`, falling back to `data-uri` when the upload fails for any reason but a 4xx
 *   answer (a bad token or a refused file would fail the data URL too; as replicate-javascript).
 *
 * Streams whose size is unknown (a web or Node stream not opened from a path, an async iterable) are
 * read into memory first (`toFile`), so their size is checked too; an `fs.ReadStream` opened from a
 * path, or a `File` from `toFile()` of one, stays on disk and is streamed by the engine.
 */
import { AiwireError, APIError } from '../../../core/errors.js';
import { isUploadable, toFile, type Uploadable } from '../../../core/uploads.js';
import { isPlainObject } from './file-output.js';
import type { FileEncodingStrategy, FileObject, ReplicateClient } from './types.js';

/** Replicate's largest file upload: 100 MiB. */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

/** Default largest total of files sent inline as data URLs: 1 MiB. */
export const DEFAULT_MAX_DATA_URI_BYTES = 1024 * 1024;

/** Options of {@link transformFileInputs} and {@link uploadFile}. */
export interface FileInputOptions {
  /** Default: the client's `fileEncodingStrategy`, else `'default'`. */
  strategy?: FileEncodingStrategy | undefined;
  /** Largest total size of the files of one input sent as data URLs. Default 1 MiB. */
  maxDataUriBytes?: number | undefined;
  /** Largest file to upload. Default (and Replicate's limit) 100 MiB. */
  maxUploadBytes?: number | undefined;
  /** Aborts the uploads. */
  signal?: AbortSignal | undefined;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
}

/**
 * Upload one file (`POST /files`, multipart `content` and `metadata`), as replicate-javascript's
 * `files.create(file, metadata)`. The file streams from disk or memory through the engine.
 *
 * @throws AiwireError when the file is over `maxUploadBytes` (default 100 MiB, Replicate's limit),
 *   before anything is sent; the API's typed errors otherwise.
 */
export async function uploadFile(
  client: ReplicateClient,
  file: Uploadable,
  metadata: Record<string, unknown> = {},
  options: Pick<FileInputOptions, 'maxUploadBytes' | 'signal'> = {},
): Promise<FileObject> {
  const f = await asFile(file);
  checkUploadSize(f, options.maxUploadBytes ?? MAX_UPLOAD_BYTES);
  return client.post<FileObject>('/files', {
    body: { content: f, metadata: JSON.stringify(metadata) },
    multipart: true,
    signal: options.signal,
  });
}

/** A `File` for any uploadable value (disk-backed for files on disk; read whole for other streams). */
async function asFile(value: Uploadable): Promise<File> {
  if (value instanceof File) return value;
  if (value instanceof Blob) return new File([value], 'blob', { type: value.type });
  return toFile(value, null);
}

function checkUploadSize(file: File, limit: number): void {
  if (file.size > limit) {
    throw new AiwireError(
      `File "${file.name}" is ${file.size} bytes, over Replicate's upload limit of ${mib(limit)}; ` +
        'host it elsewhere and pass its URL in the input instead.',
    );
  }
}

/** Walk arrays and plain objects, replacing each uploadable leaf with `map(leaf)`. */
async function transform(value: unknown, map: (file: Uploadable) => Promise<string>): Promise<unknown> {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) out.push(await transform(v, map));
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await transform(v, map);
    return out;
  }
  return isUploadable(value) ? map(value) : value;
}

/** Every file of `input` as a `File` (read once), keyed by the original value. */
async function collectFiles(input: unknown): Promise<Map<Uploadable, File>> {
  const files = new Map<Uploadable, File>();
  await transform(input, async (v) => {
    if (!files.has(v)) files.set(v, await asFile(v));
    return '';
  });
  return files;
}

async function dataURL(file: File): Promise<string> {
  const type = file.type || 'application/octet-stream';
  return `data:${type};base64,${Buffer.from(await file.arrayBuffer()).toString('base64')}`;
}

/**
 * `input` with its files replaced by URLs, per `strategy` (see the module comment). Values that are
 * not files, and `input` itself when it holds none, are returned as they are.
 *
 * @throws AiwireError for an unknown strategy, a file over the upload limit (`upload`), files over
 *   `maxDataUriBytes` (`data-uri`, or `default` after a failed upload); the API's typed errors for a
 *   failed upload (`upload`; `default` for a 4xx).
 */
export async function transformFileInputs(
  client: ReplicateClient,
  input: unknown,
  options: FileInputOptions = {},
): Promise<unknown> {
  const strategy = options.strategy ?? client.fileEncodingStrategy ?? 'default';
  if (strategy !== 'default' && strategy !== 'upload' && strategy !== 'data-uri') {
    throw new AiwireError(
      `Unknown file encoding strategy ${JSON.stringify(strategy)}: use 'default', 'upload' or 'data-uri'.`,
    );
  }
  const files = await collectFiles(input);
  if (files.size === 0) return input;
  const maxData = options.maxDataUriBytes ?? DEFAULT_MAX_DATA_URI_BYTES;
  const maxUpload = options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
  const asData = async (): Promise<unknown> => {
    let total = 0;
    for (const f of files.values()) total += f.size;
    if (total > maxData) {
      throw new AiwireError(
        `The input's files total ${total} bytes, over the ${mib(maxData)} limit for data URLs ` +
          "(maxDataUriBytes); use the 'upload' strategy, or pass URLs instead.",
      );
    }
    const urls = new Map<Uploadable, string>();
    for (const [k, f] of files) urls.set(k, await dataURL(f));
    return transform(input, async (v) => urls.get(v) as string);
  };
  const asUploads = async (): Promise<unknown> => {
    for (const f of files.values()) checkUploadSize(f, maxUpload);
    const urls = new Map<Uploadable, string>();
    for (const [k, f] of files) {
      const uploaded = await uploadFile(client, f, {}, { maxUploadBytes: maxUpload, signal: options.signal });
      const url = uploaded.urls?.get;
      if (!url) throw new AiwireError(`The upload of "${f.name}" returned no urls.get`);
      urls.set(k, url);
    }
    return transform(input, async (v) => urls.get(v) as string);
  };
  if (strategy === 'data-uri') return asData();
  if (strategy === 'upload') return asUploads();
  try {
    return await asUploads();
  } catch (e) {
    if (options.signal?.aborted) throw e;
    if (e instanceof APIError && e.status !== undefined && e.status >= 400 && e.status < 500) throw e;
    if (e instanceof AiwireError && !(e instanceof APIError)) throw e;
    return asData();
  }
}
