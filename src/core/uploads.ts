/**
 * File uploads, provider-neutral: `toFile()`, `isUploadable()`, and the conversion of a request body
 * holding files into the engine's streamed bodies (`multipartParts()` for `multipart/form-data`,
 * `rawBody()` for a whole-body upload).
 *
 * Nothing here reads a large upload into memory: a file on disk (an `fs.ReadStream`, or a `File` made
 * by `toFile()` from one) is sent by path and streamed by the engine, which re-opens it on each retry
 * attempt; a large Blob or any stream is pushed chunk by chunk through a `NativeBodySender` whose
 * `write()` promise is the backpressure (the engine holds at most 4 chunks). Only bytes already in
 * memory (Buffer, Uint8Array, ArrayBuffer, Blobs up to 8 MiB) are handed over whole.
 *
 * Form encoding follows openai-node: strings, numbers and booleans as text fields; arrays as repeated
 * `key[]` fields, in order; objects as `key[sub]` fields; `undefined` skipped; `null` refused.
 */
import { promises as fsp, openAsBlob, type ReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { NativeBodySender, NativePart, NativeRequest } from '../native/binding.js';
import { AiwireError } from './errors.js';

/**
 * An `fs.ReadStream` (from `fs.createReadStream(path)`), by the shape aiwire reads of it, so these
 * typings need no `@types/node`: the path it was opened from (such a stream is sent from disk by
 * path) and its chunks.
 */
export interface FsReadStream extends AsyncIterable<Uint8Array | string> {
  readonly path: string | Uint8Array;
}

/**
 * A value that can be uploaded as a file: a `File` or `Blob` (a `File` from `toFile()` of an
 * `fs.ReadStream` stays on disk), a fetch `Response` (its body is streamed), an `fs.ReadStream` (sent
 * by path), any Node readable stream (an async iterable of `Buffer` or string chunks), a web
 * `ReadableStream` of bytes, an async iterable of bytes or strings, or bytes in memory (`Buffer`,
 * `Uint8Array`, `ArrayBuffer`). Node types appear structurally (a `Buffer` is a `Uint8Array`).
 */
export type Uploadable =
  | File
  | Blob
  | Response
  | FsReadStream
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>
  | Uint8Array
  | ArrayBuffer;

/** What `toFile()` accepts: an `Uploadable`, or a promise of one. */
export type ToFileInput = Uploadable | PromiseLike<Uploadable>;

/** The constructor of the addon's body sender (`binding.NativeBodySender`), all `multipartParts` needs. */
export interface BodySenderFactory {
  NativeBodySender: new () => NativeBodySender;
}

/** Blobs and Files up to this many bytes are handed to the engine whole; larger ones are streamed. */
export const INLINE_BLOB_MAX = 8 * 1024 * 1024;

/** The symbol under which a `File` made by `toFile()` from a file on disk keeps that file's path. */
export const FILE_PATH: unique symbol = Symbol.for('aiwire.upload.path') as never;

/** File name used when a value carries none (as openai-node). */
const UNKNOWN_FILE = 'unknown_file';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

function isNodeReadable(value: unknown): value is NodeJS.ReadableStream {
  return (
    value instanceof Readable ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as NodeJS.ReadableStream).pipe === 'function' &&
      typeof (value as NodeJS.ReadableStream).read === 'function' &&
      typeof (value as { on?: unknown }).on === 'function')
  );
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return (
    value instanceof ReadableStream ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as ReadableStream).getReader === 'function' &&
      typeof (value as ReadableStream).pipeTo === 'function')
  );
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

/**
 * Whether `value` is something `toFile()` and the multipart encoder treat as a file (see
 * `Uploadable`). Plain objects, arrays, strings and numbers are not.
 */
export function isUploadable(value: unknown): value is Uploadable {
  return (
    value instanceof Blob ||
    value instanceof Response ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    isNodeReadable(value) ||
    isWebStream(value) ||
    isAsyncIterable(value)
  );
}

/** The path of an `fs.ReadStream` that can be sent by path: opened from a path, whole, not yet read. */
function streamPath(value: unknown): string | undefined {
  if (!isNodeReadable(value)) return undefined;
  const s = value as Partial<ReadStream> & { start?: number; end?: number };
  const path = s.path;
  if (path === undefined || path === null) return undefined;
  if ((s.start ?? 0) !== 0 || (s.end !== undefined && s.end !== Number.POSITIVE_INFINITY)) return undefined;
  if ((s.bytesRead ?? 0) > 0 || (value as Readable).readableDidRead) return undefined;
  return Buffer.isBuffer(path) ? path.toString() : String(path);
}

/**
 * Close a ReadStream sent by path. Its own open error (a missing file) is reported by aiwire as an
 * `AiwireError` naming the path, so the stream's `error` event is not left unhandled (which would crash).
 */
function release(stream: Readable): void {
  stream.on('error', () => {});
  stream.destroy();
}

/** The path a `File` made by `toFile()` from a file on disk keeps, if any. */
export function filePathOf(file: unknown): string | undefined {
  if (typeof file !== 'object' || file === null) return undefined;
  const path = (file as { [FILE_PATH]?: unknown })[FILE_PATH];
  return typeof path === 'string' ? path : undefined;
}

function basename(value: string): string | undefined {
  return value.split(/[\\/]/).pop() || undefined;
}

/** A file name from a value's `name`, `filename`, `url` or `path` (its last path segment). */
function nameOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { name?: unknown; filename?: unknown; url?: unknown; path?: unknown };
  const explicit = (typeof v.name === 'string' && v.name) || (typeof v.filename === 'string' && v.filename);
  if (explicit) return basename(explicit);
  if (typeof v.url === 'string' && v.url) {
    try {
      return basename(new URL(v.url).pathname);
    } catch {
      return basename(v.url);
    }
  }
  if (v.path !== undefined && v.path !== null) return basename(String(v.path));
  return undefined;
}

function tagPath(file: File, path: string): File {
  Object.defineProperty(file, FILE_PATH, { value: path, enumerable: false });
  return file;
}

async function collect(source: AsyncIterable<unknown>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(toBytes(chunk));
  return chunks;
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new AiwireError(
    `upload stream yielded a ${describe(chunk)} chunk; streams must yield Uint8Array, Buffer or string chunks`,
  );
}

function webIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const reader = stream.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } finally {
        // An early exit (the request stopped reading, or an error) cancels the source.
        await reader.cancel().catch(() => {});
        reader.releaseLock();
      }
    },
  };
}

/**
 * A `File` from `value`, with openai-node's behaviour: a `File` comes back as is unless renamed or
 * retyped; a `Response`, `Blob`, bytes or stream become a `File` named `name`, else the value's own
 * name (`name`, `filename`, the URL's or path's last segment), else `unknown_file`.
 *
 * Difference (kept on disk): an `fs.ReadStream` opened from a path and not yet read is not read into
 * memory: the result is a disk-backed `File` (`fs.openAsBlob`) that remembers the path, and uploads of
 * it stream the file from disk (re-opened on each retry). The stream itself is closed. Other streams
 * are read whole into memory, as a `File` must hold its bytes.
 *
 * @param value the contents, or a promise of them.
 * @param name the file name (default: inferred, else `unknown_file`).
 * @param options.type the MIME type (default: the value's own type, if any; else empty).
 * @throws AiwireError for a value that is not uploadable (a string, number, plain object, …), or a
 *   path that can not be opened (the message names it).
 */
export async function toFile(
  value: ToFileInput,
  name?: string | null,
  options?: { type?: string },
): Promise<File> {
  const v: unknown = await value;
  const type = options?.type;
  if (v instanceof File) {
    if ((name == null || name === v.name) && (type === undefined || type === v.type)) return v;
    const file = new File([v], name ?? v.name, { type: type ?? v.type, lastModified: v.lastModified });
    const path = filePathOf(v);
    return path ? tagPath(file, path) : file;
  }
  if (v instanceof Blob) return new File([v], name ?? UNKNOWN_FILE, { type: type ?? v.type });
  if (v instanceof Response) {
    const blob = await v.blob();
    return new File([blob], name || nameOf(v) || UNKNOWN_FILE, { type: type ?? blob.type });
  }
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    const bytes = v instanceof ArrayBuffer ? new Uint8Array(v) : toBytes(v);
    return new File(
      [bytes as Uint8Array<ArrayBuffer>],
      name ?? UNKNOWN_FILE,
      type === undefined ? undefined : { type },
    );
  }
  const path = streamPath(v);
  if (path !== undefined) {
    let blob: Blob;
    try {
      blob = await openAsBlob(path, type === undefined ? undefined : { type });
    } catch (e) {
      throw new AiwireError(`toFile: could not open ${path}: ${(e as Error).message}`);
    } finally {
      release(v as Readable);
    }
    return tagPath(new File([blob], name || nameOf(v) || UNKNOWN_FILE, { type: type ?? '' }), path);
  }
  if (isWebStream(v) || isNodeReadable(v) || isAsyncIterable(v)) {
    const source = isWebStream(v) ? webIterable(v) : (v as AsyncIterable<unknown>);
    const chunks = await collect(source);
    return new File(
      chunks as Uint8Array<ArrayBuffer>[],
      name || nameOf(v) || UNKNOWN_FILE,
      type === undefined ? undefined : { type },
    );
  }
  throw new AiwireError(
    `toFile: expected a File, Blob, Response, fs.ReadStream, readable stream, async iterable, Buffer, ` +
      `Uint8Array or ArrayBuffer, got ${describe(v)}` +
      (typeof v === 'string' ? ' (to upload a file from disk, pass fs.createReadStream(path))' : ''),
  );
}

/** A streamed part or body waiting to be pumped, once the request is started. */
interface Pump {
  sender: NativeBodySender;
  source: AsyncIterable<unknown>;
}

/** Push `source` into `sender`, one awaited `write()` per chunk (backpressure); abort on failure. */
async function pump({ sender, source }: Pump): Promise<void> {
  try {
    for await (const chunk of source) {
      const bytes = toBytes(chunk);
      if (bytes.byteLength === 0) continue;
      await sender.write(
        Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      );
    }
    sender.end();
  } catch (e) {
    // A rejected write means the request stopped reading (finished, failed, cancelled): leaving the
    // loop has already cancelled the source; abort is then harmless.
    sender.abort(`the upload source failed: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** The engine-side form of one uploadable value: the fields of a part or request body. */
interface SourceFields {
  value?: Buffer;
  path?: string;
  sender?: NativeBodySender;
  length?: number;
  contentType?: string;
  filename: string;
}

async function checkedPath(path: string, what: string): Promise<string> {
  let stat: Awaited<ReturnType<typeof fsp.stat>>;
  try {
    stat = await fsp.stat(path);
  } catch (e) {
    throw new AiwireError(`${what}: can not upload ${path}: ${(e as Error).message}`);
  }
  if (!stat.isFile()) throw new AiwireError(`${what}: can not upload ${path}: not a regular file`);
  return path;
}

async function sourceOf(
  binding: BodySenderFactory,
  value: Uploadable,
  what: string,
  pumps: Pump[],
): Promise<SourceFields> {
  const streamed = (source: AsyncIterable<unknown>): NativeBodySender => {
    const sender = new binding.NativeBodySender();
    pumps.push({ sender, source });
    return sender;
  };
  const diskPath = filePathOf(value) ?? streamPath(value);
  if (diskPath !== undefined) {
    if (isNodeReadable(value)) release(value as Readable);
    const f = value as { type?: string };
    return {
      path: await checkedPath(diskPath, what),
      filename: nameOf(value) ?? UNKNOWN_FILE,
      contentType: f.type || undefined,
    };
  }
  if (value instanceof Blob) {
    const filename = value instanceof File ? value.name : 'blob';
    const contentType = value.type || undefined;
    if (value.size <= INLINE_BLOB_MAX) {
      return { value: Buffer.from(await value.arrayBuffer()), filename, contentType };
    }
    return {
      sender: streamed(webIterable(value.stream() as ReadableStream<Uint8Array>)),
      length: value.size,
      filename,
      contentType,
    };
  }
  if (value instanceof Response) {
    if (!value.body) return { value: Buffer.alloc(0), filename: nameOf(value) ?? UNKNOWN_FILE };
    const length = Number(value.headers.get('content-length') ?? Number.NaN);
    const encoded = value.headers.get('content-encoding');
    return {
      sender: streamed(webIterable(value.body as ReadableStream<Uint8Array>)),
      length: Number.isSafeInteger(length) && !encoded ? length : undefined,
      filename: nameOf(value) ?? UNKNOWN_FILE,
      contentType: value.headers.get('content-type') ?? undefined,
    };
  }
  if (value instanceof ArrayBuffer) return { value: Buffer.from(value), filename: UNKNOWN_FILE };
  if (ArrayBuffer.isView(value)) {
    return { value: Buffer.from(value.buffer, value.byteOffset, value.byteLength), filename: UNKNOWN_FILE };
  }
  if (isWebStream(value)) return { sender: streamed(webIterable(value)), filename: UNKNOWN_FILE };
  if (isNodeReadable(value) || isAsyncIterable(value)) {
    return { sender: streamed(value as AsyncIterable<unknown>), filename: nameOf(value) ?? UNKNOWN_FILE };
  }
  throw new AiwireError(
    `${what}: expected a file (File, Blob, Response, fs.ReadStream, readable stream, Buffer, Uint8Array ` +
      `or ArrayBuffer), got ${describe(value)}; use toFile() to make one`,
  );
}

/**
 * A body ready for the engine: the request fields to spread into a `NativeRequest`, whether it can
 * be retried, and the pumps of its streamed parts.
 */
export interface PreparedBody<Fields> {
  /** Fields for the `NativeRequest` (`multipart`, or `body` / `bodyPath` / `bodySender`). */
  readonly fields: Fields;
  /**
   * True when the body is made only of bytes in memory and files on disk: the engine retries it as any
   * request. False when a part is pushed from JS (a stream, a Response, a Blob over 8 MiB): the engine
   * then makes exactly one attempt (no retry).
   */
  readonly replayable: boolean;
  /**
   * Start pumping streamed parts into the engine: call right after the native request was started
   * (each chunk waits for room in the engine's bounded channel). Calling it twice does nothing.
   */
  start(): void;
  /** Abandon the body when the request could not be started: streamed sources are cancelled. */
  abort(): void;
}

function prepared<Fields>(fields: Fields, pumps: Pump[]): PreparedBody<Fields> {
  let started = false;
  return {
    fields,
    replayable: pumps.length === 0,
    start() {
      if (started) return;
      started = true;
      for (const p of pumps) void pump(p);
    },
    abort() {
      if (started) return;
      started = true;
      for (const p of pumps) {
        p.sender.abort('the request was not started');
        const it = p.source[Symbol.asyncIterator]();
        void it.return?.();
        const destroy = (p.source as { destroy?: () => void }).destroy;
        if (typeof destroy === 'function') destroy.call(p.source);
      }
    },
  };
}

/**
 * Encode `body` as `multipart/form-data` parts for the engine (`NativeRequest.multipart`).
 *
 * Each top-level field goes through the form encoding: `undefined` is skipped; strings, numbers and
 * booleans become text fields (`String(value)`); uploadable values become file parts (see below);
 * arrays become repeated `key[]` fields in order; other objects become `key[sub]` fields, recursively.
 *
 * File parts: an `fs.ReadStream` (opened from a path, not yet read; it is closed) or a `File` from
 * `toFile()` of one → a `path` part streamed from disk by the engine (checked to exist now); bytes and
 * Blobs/Files up to 8 MiB → a `value` part; larger Blobs, Responses, web `ReadableStream`s, Node
 * readables and async iterables → a `sender` part fed by `start()`. File name: the `File`'s name, the
 * path's or URL's last segment, `blob` for a nameless Blob, else `unknown_file`; content type: the
 * value's type, else the engine's `application/octet-stream`.
 *
 * @param binding the addon (for `NativeBodySender`).
 * @param body the request's fields.
 * @returns the parts, whether the body is replayable, and `start()` / `abort()` for streamed parts.
 * @throws AiwireError for `null` (pass the string `'null'`), a bigint, symbol or function, a value of
 *   the wrong kind, or a path that does not exist or is not a regular file (the message names the field).
 */
export async function multipartParts(
  binding: BodySenderFactory,
  body: Record<string, unknown>,
): Promise<PreparedBody<{ multipart: NativePart[] }>> {
  const parts: NativePart[] = [];
  const pumps: Pump[] = [];
  const add = async (key: string, value: unknown): Promise<void> => {
    if (value === undefined) return;
    if (value === null) {
      throw new AiwireError(
        `multipart field "${key}" is null; to send null in a form, pass the string 'null'`,
      );
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      parts.push({ name: key, value: String(value) });
    } else if (isUploadable(value)) {
      const s = await sourceOf(binding, value, `multipart field "${key}"`, pumps);
      parts.push({
        name: key,
        filename: s.filename,
        contentType: s.contentType,
        value: s.value,
        path: s.path,
        sender: s.sender,
        length: s.length,
      });
    } else if (Array.isArray(value)) {
      for (const entry of value) await add(`${key}[]`, entry);
    } else if (typeof value === 'object') {
      for (const [sub, prop] of Object.entries(value)) await add(`${key}[${sub}]`, prop);
    } else {
      throw new AiwireError(
        `multipart field "${key}": expected a string, number, boolean, object, array or file, got ${typeof value}`,
      );
    }
  };
  try {
    for (const [key, value] of Object.entries(body)) await add(key, value);
  } catch (e) {
    prepared({ multipart: parts }, pumps).abort();
    throw e;
  }
  return prepared({ multipart: parts }, pumps);
}

/**
 * One uploadable value as a whole request body (not multipart): `bodyPath` for a file on disk,
 * `body` for bytes in memory (and Blobs up to 8 MiB), else `bodySender` fed by `start()`. Set the
 * request's `content-type` header yourself; `contentType` is the value's own type, if any.
 *
 * @throws AiwireError for a value that is not uploadable, or a path that does not exist.
 */
export async function rawBody(
  binding: BodySenderFactory,
  value: Uploadable,
): Promise<
  PreparedBody<{
    body?: Exclude<NativeRequest['body'], string>;
    bodyPath?: string;
    bodySender?: NativeBodySender;
  }> & { contentType?: string }
> {
  if (!isUploadable(value)) {
    throw new AiwireError(`request body: expected a file or bytes, got ${describe(value)}; use toFile()`);
  }
  const pumps: Pump[] = [];
  const s = await sourceOf(binding, value, 'request body', pumps);
  const fields =
    s.path !== undefined ? { bodyPath: s.path } : s.sender ? { bodySender: s.sender } : { body: s.value };
  return Object.assign(prepared(fields, pumps), { contentType: s.contentType });
}
