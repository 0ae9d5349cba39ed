/**
 * JSON Lines bodies read as they stream (provider-neutral): `decodeJSONL(response)` yields one value
 * per line; `JSONLDecoder` is the iterate-once wrapper the SDKs return (Anthropic's
 * `messages.batches.results()`, OpenAI's `batches.run()` results).
 *
 * Memory stays flat whatever the file's size: the body is read one network chunk at a time
 * (aiwire's binary bodies are pulled from the engine, which stops reading while ~1 MiB is pending),
 * and only the current incomplete line is kept between chunks.
 */
import { AiwireError } from './errors.js';

/** A line of a JSON Lines body that is not JSON. */
export class JSONLDecodeError extends AiwireError {
  /** 1-based line number in the body. */
  readonly lineNumber: number;
  /** The line (its first 200 characters). */
  readonly line: string;

  constructor(lineNumber: number, line: string, cause: unknown) {
    const preview = line.length > 200 ? `${line.slice(0, 200)}…` : line;
    super(`JSONL line ${lineNumber} is not valid JSON (${(cause as Error)?.message ?? cause}): ${preview}`);
    this.name = 'JSONLDecodeError';
    this.lineNumber = lineNumber;
    this.line = preview;
    (this as { cause?: unknown }).cause = cause;
  }
}

/**
 * The values of a JSON Lines body, one per line, read as the body streams. Lines end with `\n` or
 * `\r\n`; blank lines are skipped; the last line needs no newline. Breaking out of the loop cancels
 * the body (closing the connection).
 *
 * @throws (from the loop) `JSONLDecodeError` naming the line number of a line that is not JSON (the
 *   body is cancelled); `AiwireError` when the response has no body; the body's own error (e.g.
 *   `APIConnectionError`) when the connection fails mid-way.
 */
export async function* decodeJSONL<T>(
  response: Response,
  signal?: AbortSignal,
): AsyncGenerator<T, void, undefined> {
  const body = response.body;
  if (!body) throw new AiwireError('Attempted to iterate over a response with no body');
  const reader = body.getReader();
  // Aborting `signal` cancels the body: the read in progress ends and so does the loop.
  const onAbort = () => void reader.cancel().catch(() => {});
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const text = new TextDecoder('utf-8');
  let pending = '';
  let lineNumber = 0;
  let finished = false;
  const parse = (raw: string): T | undefined => {
    lineNumber++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return undefined;
    try {
      return JSON.parse(line) as T;
    } catch (e) {
      throw new JSONLDecodeError(lineNumber, line, e);
    }
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const chunk = pending + text.decode(value, { stream: true });
      let start = 0;
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
        const item = parse(chunk.slice(start, nl));
        start = nl + 1;
        if (item !== undefined) yield item;
      }
      pending = chunk.slice(start);
    }
    const rest = pending + text.decode();
    pending = '';
    if (rest !== '') {
      const item = parse(rest);
      if (item !== undefined) yield item;
    }
    finished = true;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * A JSON Lines response body as an async iterable (@anthropic-ai/sdk's `JSONLDecoder`): iterate it
 * once; `controller.abort()` cancels the body.
 */
export class JSONLDecoder<T> implements AsyncIterable<T> {
  /** Aborting it cancels the body (a loop in progress ends with the body's cancellation). */
  readonly controller: AbortController;
  #response: Response | undefined;

  constructor(response: Response, controller: AbortController = new AbortController()) {
    this.#response = response;
    this.controller = controller;
    // Not iterated yet: aborting cancels the body (once iterated, the loop's reader does).
    const onAbort = () => {
      if (this.#response?.body && !this.#response.body.locked)
        void this.#response.body.cancel().catch(() => {});
    };
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  }

  /** @throws AiwireError when iterated a second time. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    const response = this.#response;
    if (!response) throw new AiwireError('Cannot iterate over a consumed stream.');
    this.#response = undefined;
    return decodeJSONL<T>(response, this.controller.signal);
  }

  /**
   * Wrap a response whose body is JSON Lines.
   * @throws AiwireError when the response has no body (the controller is aborted).
   */
  static fromResponse<T>(
    response: Response,
    controller: AbortController = new AbortController(),
  ): JSONLDecoder<T> {
    if (!response.body) {
      controller.abort();
      throw new AiwireError('Attempted to iterate over a response with no body');
    }
    return new JSONLDecoder<T>(response, controller);
  }
}
