/**
 * Pieces shared by the bundled mock servers (`mock-server.ts`, `mock-chat.ts`,
 * `mock-openai-extra.ts`): OpenAI-style errors, body reading and decoding,
 * the mock's word "tokenizer" and JSON replies.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** Fixed `created` timestamp (seconds since the epoch) of every object. */
export const CREATED = 1_700_000_000;
export const SYSTEM_FINGERPRINT = 'fp_aiwire_mock';
/** Largest request body accepted, in bytes; larger bodies get a 413. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** An HTTP error with an OpenAI-style body, thrown inside handlers. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type: string = 'invalid_request_error',
  ) {
    super(message);
  }
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Number of whitespace-separated words in `text` (the mock's "tokens"). */
export function countWords(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // ASCII whitespace plus NBSP; enough for a mock tokenizer.
    const space = c === 32 || (c >= 9 && c <= 13) || c === 160;
    if (space) {
      inWord = false;
    } else if (!inWord) {
      inWord = true;
      count++;
    }
  }
  return count;
}

/**
 * Splits `text` into word pieces that concatenate back to `text` exactly:
 * each piece is one word with the whitespace around it.
 */
export function splitPieces(text: string): string[] {
  return text.match(/\s*\S+\s*|\s+/g) ?? [];
}

/** Text of a chat message `content`: a string, or the `text` parts of an array joined by a space. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const texts: string[] = [];
    for (const part of content) {
      if (typeof part === 'string') texts.push(part);
      else if (isObject(part) && part.type === 'text' && typeof part.text === 'string') {
        texts.push(part.text);
      }
    }
    return texts.join(' ');
  }
  return '';
}

export function optionalPositiveInt(body: JsonObject, key: string, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ApiError(400, `Invalid '${key}': expected an integer between 1 and ${max}.`, key);
  }
  return value;
}

/** 32-bit FNV-1a hash over the UTF-16 code units of `text`. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function decodeBody(raw: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return raw;
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(raw);
    if (enc === 'deflate') return inflateSync(raw);
    if (enc === 'br') return brotliDecompressSync(raw);
  } catch {
    throw new ApiError(400, `Could not decode the request body with content-encoding '${enc}'.`);
  }
  throw new ApiError(415, `Unsupported content-encoding '${enc}'.`);
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) reject(new ApiError(413, `Request body larger than ${MAX_BODY_BYTES} bytes.`));
      else resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

export function parseJsonBody(raw: Buffer): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    );
  }
  if (!isObject(parsed)) {
    throw new ApiError(400, 'The request body must be a JSON object.');
  }
  return parsed;
}

/** Resolves after `ms` milliseconds; the timer does not keep the process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });
}

/** Sends `payload` as a JSON response (nothing when the response was already sent or destroyed). */
export function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Sends `err` with the OpenAI error shape `{"error":{"message","type","param","code"}}`. */
export function sendError(res: ServerResponse, err: ApiError): void {
  send(res, err.status, {
    error: { message: err.message, type: err.type, param: err.param, code: err.code },
  });
}

/**
 * Sends `events` (already framed: `data: …\n\n`) as `text/event-stream`: all at once, or one every
 * `chunkDelayMs` milliseconds, stopping when the client goes away.
 */
export async function writeEvents(
  res: ServerResponse,
  events: string[],
  chunkDelayMs: number,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
  });
  if (chunkDelayMs <= 0) {
    res.end(events.join(''));
    return;
  }
  for (let i = 0; i < events.length; i++) {
    if (res.destroyed) return;
    if (i > 0) {
      await sleep(chunkDelayMs);
      if (res.destroyed) return;
    }
    res.write(events[i]);
  }
  res.end();
}

/**
 * Runs `handler` against an in-memory response (no socket) and returns the status and body text it
 * wrote: how the mock's batch stores run one request through the same handlers the HTTP routes use.
 * Headers are dropped; a handler that never calls `writeHead` leaves status 200.
 */
export async function captureResponse(
  handler: (res: ServerResponse) => Promise<void> | void,
): Promise<{ status: number; text: string }> {
  let status = 200;
  let text = '';
  const sink = {
    destroyed: false,
    headersSent: false,
    setHeader() {},
    writeHead(code: number) {
      status = code;
      sink.headersSent = true;
      return sink;
    },
    write(chunk?: string) {
      text += chunk ?? '';
      return true;
    },
    end(chunk?: string) {
      text += chunk ?? '';
    },
  };
  await handler(sink as unknown as ServerResponse);
  return { status, text };
}
