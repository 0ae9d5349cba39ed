/**
 * `client.uploads.upload(params, options?)`: a large file through the Uploads API
 * (https://platform.openai.com/docs/api-reference/uploads) in one call: `POST /uploads` (bytes,
 * filename, mime_type, purpose), the file split into parts of `partSize` bytes (default and maximum
 * 64 MiB, the API's limit per part) sent with `POST /uploads/{id}/parts` at most `concurrency` at a time
 * (default 4), then `POST /uploads/{id}/complete` with the part ids in file order. Resolves with the
 * completed `Upload` (its `file` is the usable File object). When a part fails, the upload is
 * cancelled (`POST /uploads/{id}/cancel`, best effort) and the part's error is thrown.
 *
 * aiwire's own helper: openai-node (6.x) has no such method; the name follows the resource.
 *
 * Memory: the engine streams whole files from disk but not a byte range of one, so each part is read
 * into a Buffer (through one `FileHandle`, at its offset) just before it is sent and dropped after;
 * at most `concurrency` parts are in memory at once (default 4 × 64 MiB). Buffers keep each part
 * retryable by the engine (the client's `maxRetries`).
 */

import type { ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { RequestOptions } from '../../../core/client.js';
import { AiwireError } from '../../../core/errors.js';
import type { FsReadStream } from '../../../core/uploads.js';
import type * as S from '../generated/schemas.js';

/** The largest part the Uploads API accepts, and the default part size: 64 MiB. */
export const MAX_PART_BYTES = 64 * 1024 * 1024;

/** What `uploads.upload()` takes. */
export interface UploadFileParams {
  /**
   * The file: a path on disk, an `fs.ReadStream` of one (read by its path), a `Blob`/`File`, or bytes
   * in memory (`Buffer`, `Uint8Array`).
   */
  file: string | FsReadStream | Blob | Uint8Array;
  /** The name the API records. Default: the path's base name, a `File`'s name, else `upload.bin`. */
  filename?: string | undefined;
  /** The file's size in bytes; checked against the file when given (a mismatch throws). */
  bytes?: number | undefined;
  /** MIME type, e.g. `text/jsonl`, `application/pdf` (required by the API). */
  mime_type: string;
  /** What the file is for: `assistants`, `batch`, `fine-tune`, `vision`. */
  purpose: S.CreateUploadRequest['purpose'];
  /** Bytes per part (the last part is shorter): 1 … 64 MiB. Default 64 MiB. */
  partSize?: number | undefined;
  /** Parts sent at the same time: 1 … 16. Default 4. */
  concurrency?: number | undefined;
  /** File expiration policy, passed to `POST /uploads` as is. */
  expires_after?: S.CreateUploadRequest['expires_after'];
}

interface UploadsLike {
  create(body: S.CreateUploadRequest, options?: RequestOptions): PromiseLike<S.Upload>;
  cancel(uploadID: string, options?: RequestOptions): PromiseLike<S.Upload>;
  complete(uploadID: string, body: S.CompleteUploadRequest, options?: RequestOptions): PromiseLike<S.Upload>;
  parts: {
    create(uploadID: string, body: { data: never }, options?: RequestOptions): PromiseLike<S.UploadPart>;
  };
}

/** Where the bytes come from: its size and a reader of `length` bytes at `offset`. */
interface Source {
  size: number;
  name: string | undefined;
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

async function openSource(file: UploadFileParams['file']): Promise<Source> {
  const path =
    typeof file === 'string'
      ? file
      : file &&
          typeof (file as ReadStream).path === 'string' &&
          typeof (file as ReadStream).pipe === 'function'
        ? ((file as ReadStream).path as string)
        : undefined;
  if (path !== undefined) {
    const handle = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
      throw new AiwireError(
        `uploads.upload: cannot open file ${JSON.stringify(path)}: ${e.code ?? e.message}`,
      );
    });
    const { size } = await handle.stat();
    return {
      size,
      name: basename(path),
      async read(offset, length) {
        const buffer = Buffer.allocUnsafe(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
          if (bytesRead === 0)
            throw new AiwireError(`uploads.upload: ${path} got shorter while it was uploaded`);
          done += bytesRead;
        }
        return buffer;
      },
      close: () => handle.close(),
    };
  }
  if (file instanceof Uint8Array) {
    const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
    return {
      size: bytes.length,
      name: undefined,
      read: async (offset, length) => bytes.subarray(offset, offset + length),
      close: async () => {},
    };
  }
  if (typeof Blob !== 'undefined' && file instanceof Blob) {
    return {
      size: file.size,
      name: typeof (file as File).name === 'string' && (file as File).name ? (file as File).name : undefined,
      read: async (offset, length) => Buffer.from(await file.slice(offset, offset + length).arrayBuffer()),
      close: async () => {},
    };
  }
  throw new AiwireError(
    'uploads.upload: `file` must be a path, an fs.ReadStream, a Blob/File or a Buffer/Uint8Array (the size must be known before the upload is created)',
  );
}

function checkInt(
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
  what: string,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AiwireError(
      `uploads.upload: ${what} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Create an upload, send the file's parts (bounded concurrency), complete it; see the file comment.
 * @throws AiwireError for bad params (unreadable file, empty file, `bytes` mismatch, `partSize` or
 * `concurrency` out of range, missing `mime_type`/`purpose`); the API's errors (APIError subclasses,
 * APIConnectionError); APIUserAbortError when `options.signal` aborts (the upload is then cancelled).
 */
export async function uploadFile(
  uploads: UploadsLike,
  params: UploadFileParams,
  options?: RequestOptions,
): Promise<S.Upload> {
  if (!params || typeof params !== 'object')
    throw new AiwireError('uploads.upload(params): params must be an object');
  if (typeof params.mime_type !== 'string' || params.mime_type === '') {
    throw new AiwireError("uploads.upload: mime_type is required (e.g. 'text/jsonl', 'application/pdf')");
  }
  if (typeof params.purpose !== 'string' || (params.purpose as string) === '') {
    throw new AiwireError(
      "uploads.upload: purpose is required ('assistants', 'batch', 'fine-tune', 'vision', …)",
    );
  }
  const partSize = checkInt(params.partSize, MAX_PART_BYTES, 1, MAX_PART_BYTES, 'partSize (bytes)');
  const concurrency = checkInt(params.concurrency, 4, 1, 16, 'concurrency');
  const source = await openSource(params.file);
  try {
    const size = source.size;
    if (size === 0)
      throw new AiwireError('uploads.upload: the file is empty; the Uploads API needs at least 1 byte');
    if (params.bytes !== undefined && params.bytes !== size) {
      throw new AiwireError(`uploads.upload: bytes is ${params.bytes} but the file has ${size} bytes`);
    }
    const filename = params.filename ?? source.name ?? 'upload.bin';
    const upload = await uploads.create(
      {
        bytes: size,
        filename,
        mime_type: params.mime_type,
        purpose: params.purpose,
        ...(params.expires_after ? { expires_after: params.expires_after } : {}),
      },
      options,
    );
    const count = Math.ceil(size / partSize);
    const ids: string[] = new Array(count);
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (!failed && next < count) {
        const index = next++;
        const offset = index * partSize;
        try {
          // A Buffer part is handed to the engine whole, so its retries resend it.
          const data = await source.read(offset, Math.min(partSize, size - offset));
          ids[index] = (await uploads.parts.create(upload.id, { data: data as never }, options)).id;
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, count) }, worker));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await Promise.resolve(uploads.cancel(upload.id, { ...options, signal: undefined })).catch(() => {});
      throw failure.reason;
    }
    return await uploads.complete(upload.id, { part_ids: ids }, options);
  } finally {
    await source.close();
  }
}
