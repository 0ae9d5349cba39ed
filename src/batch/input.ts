/**
 * The batch input, streamed: {@link readInput} reads a JSONL file line by line (never the whole file
 * in memory) or takes items from an (async) iterable, and {@link parseInputLine} validates each line
 * into a {@link BatchItem} or an `invalid_input` output line that names the line number.
 *
 * A line follows OpenAI's batch input file (https://platform.openai.com/docs/guides/batch#1-prepare-your-batch-file):
 * `{"custom_id": "request-1", "method": "POST", "url": "/v1/chat/completions", "body": {...}}`.
 */
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { outputLineId } from './send-item.js';
import type { BatchItem, BatchOutputLine } from './types.js';

/** The HTTP methods an input line may name (any case; `POST` when absent). */
export const BATCH_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Where the items come from: a JSONL file (path or `file:` URL), or an (async) iterable of lines
 * (JSON text) or of already-parsed objects in the input line's shape.
 */
export type BatchInput = string | URL | Iterable<unknown> | AsyncIterable<unknown>;

/** One input line after validation: an item to send, or the output line of an invalid one. */
export type ParsedLine =
  | { item: BatchItem; invalid?: undefined }
  | { item?: undefined; invalid: BatchOutputLine };

/**
 * The `custom_id` given to the output line of an input line that has no usable id of its own
 * (missing, not a string, or a repeat of an earlier line's): `input-line-<n>`, stable across runs so
 * that a resumed run skips it like any other written line.
 */
export function syntheticId(line: number): string {
  return `input-line-${line}`;
}

function invalid(customId: string, line: number, message: string): ParsedLine {
  return {
    invalid: {
      id: outputLineId(),
      custom_id: customId,
      response: null,
      error: {
        code: 'invalid_input',
        message: `input line ${line}: ${message}`,
        type: 'BatchInputError',
        status: null,
        retryable: false,
        line,
      },
    },
  };
}

/**
 * The body's JSON text as the input line has it, kept (non-enumerable) on an item so that the request
 * sends it as is instead of serializing the parsed body again. Only set when the line is in the
 * usual key order (`custom_id`, `method`, `url`, `body` last), where the text is known to be the body.
 */
export const BODY_TEXT: unique symbol = Symbol('aiwire.batch.bodyText');

/**
 * The item's input line hash (the output line's `input_hash`), kept (non-enumerable) on the items the
 * runner hands to an executor, so an executor resuming work of an earlier run can tell whether the
 * line changed since (the provider batch executors record it per request).
 */
export const INPUT_HASH: unique symbol = Symbol('aiwire.batch.inputHash');

/** The {@link INPUT_HASH} of `item`, if the runner set it. */
export function inputHashOf(item: BatchItem): string | undefined {
  return (item as BatchItem & { [INPUT_HASH]?: string })[INPUT_HASH];
}

const USUAL_PREFIX =
  /^\{\s*"custom_id"\s*:\s*"[^"\\]*"\s*,\s*"method"\s*:\s*"[A-Za-z]+"\s*,\s*"url"\s*:\s*"[^"\\]*"\s*,\s*"body"\s*:\s*(?=\{)/;

const REPEATED_BODY = /\}\s*,\s*"body"\s*:/;

/** The body's text in `line` (already parsed into `value`), when the line has the usual key order. */
function bodyTextOf(line: string, value: Record<string, unknown>): string | undefined {
  const m = USUAL_PREFIX.exec(line);
  if (!m) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 4 || keys[3] !== 'body') return undefined;
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) !== 0x7d) end--; // the outer object's `}`
  end--;
  while (end > m[0].length && /\s/.test(line[end - 1] as string)) end--;
  const text = line.slice(m[0].length, end);
  // A second "body" key (JSON.parse keeps the last one) would make the text more than the body.
  return text.endsWith('}') && !REPEATED_BODY.test(text) ? text : undefined;
}

const SHAPE =
  'each line must be a JSON object {"custom_id", "method", "url", "body"} (OpenAI batch file shape)';

/**
 * Validate one input line (`raw`: its JSON text, or an object) numbered `line` (1-based). `seen` maps
 * each `custom_id` taken so far to its line, and is updated: a repeated id is an error naming both
 * lines. Never throws.
 */
export function parseInputLine(raw: unknown, line: number, seen: Map<string, number>): ParsedLine {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (e) {
      return invalid(syntheticId(line), line, `not valid JSON (${(e as Error).message}); ${SHAPE}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid(syntheticId(line), line, `not a JSON object; ${SHAPE}`);
  }
  const v = value as Record<string, unknown>;
  const id = v.custom_id;
  if (typeof id !== 'string' || id === '') {
    return invalid(syntheticId(line), line, `"custom_id" must be a non-empty string; ${SHAPE}`);
  }
  const first = seen.get(id);
  if (first !== undefined) {
    return invalid(
      syntheticId(line),
      line,
      `custom_id '${id}' repeats the one of line ${first}; each custom_id must be unique in the input`,
    );
  }
  seen.set(id, line);
  const rawMethod = v.method ?? 'POST';
  const method = typeof rawMethod === 'string' ? rawMethod.toUpperCase() : '';
  if (!(BATCH_METHODS as readonly string[]).includes(method)) {
    return invalid(
      id,
      line,
      `unknown "method" ${JSON.stringify(rawMethod)}; use one of ${BATCH_METHODS.join(', ')}`,
    );
  }
  const url = v.url;
  if (typeof url !== 'string' || !url.startsWith('/')) {
    return invalid(
      id,
      line,
      `"url" must be the operation's path with its version, starting with '/' (e.g. "/v1/chat/completions"), got ${JSON.stringify(url ?? null)}`,
    );
  }
  const body = v.body;
  const needsBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  if (needsBody && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    return invalid(id, line, `"body" must be a JSON object for ${method} (the request's parameters)`);
  }
  const item: BatchItem = { custom_id: id, method: method as BatchItem['method'], url, line };
  if (body !== undefined && body !== null) {
    item.body = body;
    if (typeof raw === 'string') {
      const text = bodyTextOf(raw, v);
      if (text !== undefined) Object.defineProperty(item, BODY_TEXT, { value: text, enumerable: false });
    }
  }
  return { item };
}

/**
 * The raw lines of `input` with their 1-based numbers, in batches (one per chunk read, so that a
 * consumer awaits once per chunk rather than once per line): a file's lines (blank ones skipped but
 * counted, a leading BOM dropped, `\r\n` accepted), or the iterable's values (strings or objects)
 * numbered in order.
 *
 * @throws the file's read error (`ENOENT`, `EISDIR`, …) when iterated.
 */
export async function* rawLineBatches(input: BatchInput): AsyncGenerator<Array<[unknown, number]>> {
  if (typeof input === 'string' || input instanceof URL) {
    const path = input instanceof URL ? fileURLToPath(input) : input;
    const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
    let n = 0;
    let rest = '';
    const take = (text: string, batch: Array<[unknown, number]>): void => {
      n += 1;
      let line = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (n === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      if (line.trim() !== '') batch.push([line, n]);
    };
    try {
      for await (const chunk of stream as AsyncIterable<string>) {
        const batch: Array<[unknown, number]> = [];
        let from = 0;
        let at = chunk.indexOf('\n');
        if (at !== -1 && rest !== '') {
          take(rest + chunk.slice(0, at), batch);
          rest = '';
          from = at + 1;
          at = chunk.indexOf('\n', from);
        }
        while (at !== -1) {
          take(chunk.slice(from, at), batch);
          from = at + 1;
          at = chunk.indexOf('\n', from);
        }
        rest += chunk.slice(from);
        if (batch.length > 0) yield batch;
      }
      if (rest !== '') {
        const batch: Array<[unknown, number]> = [];
        take(rest, batch);
        if (batch.length > 0) yield batch;
      }
    } finally {
      stream.destroy();
    }
    return;
  }
  let n = 0;
  for await (const value of input as AsyncIterable<unknown>) {
    n += 1;
    if (typeof value === 'string' && value.trim() === '') continue;
    yield [[value, n]];
  }
}

/**
 * The number of non-empty lines of a JSONL file, counted in 1 MiB chunks (for progress and ETA;
 * lines of only spaces are counted too), or null for an iterable input (unknown until read) or when the file cannot be read.
 */
export async function countLines(input: BatchInput): Promise<number | null> {
  if (!(typeof input === 'string' || input instanceof URL)) {
    return Array.isArray(input) ? input.length : null;
  }
  const path = input instanceof URL ? fileURLToPath(input) : input;
  let count = 0;
  let blank = 0;
  let last = 10;
  let lineStart = true;
  try {
    for await (const chunk of createReadStream(path, {
      highWaterMark: 1024 * 1024,
    }) as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      // Newlines by indexOf (native); a line counts unless it is empty (two newlines in a row).
      let at = chunk.indexOf(10);
      while (at !== -1) {
        count += 1;
        if (at === 0 ? lineStart : chunk[at - 1] === 10) blank += 1;
        at = chunk.indexOf(10, at + 1);
      }
      last = chunk[chunk.length - 1] as number;
      lineStart = last === 10;
    }
  } catch {
    return null;
  }
  return count - blank + (last === 10 ? 0 : 1);
}
