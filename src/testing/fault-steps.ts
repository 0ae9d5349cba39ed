/**
 * The steps of the fault server ({@link FaultStep}: what it does with one request) and their
 * validation; the server itself is in `fault-server.ts`.
 *
 * @module
 */

/**
 * What the server does with one request. Unless a step's `headers` set it,
 * every response carries `x-request-id: req_fault_<n>`, where `n` is the
 * 1-based position of the request in {@link FaultServer.requests}.
 * Header names are case-insensitive; given headers override the defaults.
 *
 * - `json`: after `delayMs` (ms, default 0) replies `status` (default 200)
 *   with `JSON.stringify(body)` (default body `{}`), `content-type:
 *   application/json` and a `content-length` (status 204 and 304: no body,
 *   no content headers).
 * - `raw`: after `delayMs` (ms, default 0) replies `status` (default 200)
 *   with exactly the bytes of `body` (a string is sent as UTF-8) and only
 *   the given `headers` (plus `x-request-id` and what Node always adds:
 *   `date`, `connection`, and `content-length` unless `headers` set
 *   `content-length` or `transfer-encoding`).
 * - `sse`: replies `status` (default 200) with `content-type:
 *   text/event-stream` and `cache-control: no-cache` (chunked), writes each
 *   string of `events` verbatim, waiting `chunkDelayMs` (ms, default 0)
 *   between two events. Then it ends the response, or, with `thenReset`,
 *   destroys the socket once the events are flushed, or, with `hang`, keeps
 *   the response open until the client or {@link FaultServer.close} closes it.
 * - `reset`: without `afterHeaders`/`afterBytes`, destroys the socket as soon
 *   as the request has been read (the client sees the connection close with
 *   no response). With `afterHeaders`, sends the status line and headers
 *   (`status` default 200, `content-type: application/json`, chunked
 *   encoding) and destroys the socket once they are flushed; `afterBytes`
 *   (implies `afterHeaders`) also writes these body bytes as one chunk first.
 * - `hang`: reads the request and never answers.
 * - `headersThenSilence`: sends `status` (default 200) and headers
 *   (`content-type: application/json`, chunked encoding), never a body byte.
 * - `trickle`: replies `status` (default 200) with `content-type:
 *   application/json` and the full `content-length`, then writes the UTF-8
 *   bytes of `body` `bytesPerTick` (bytes, integer >= 1) at a time: the first
 *   piece at once, each next one `tickMs` (ms) later, then ends.
 */
export type FaultStep =
  | { kind: 'json'; status?: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  | {
      kind: 'raw';
      status?: number;
      body: string | Buffer;
      headers?: Record<string, string>;
      delayMs?: number;
    }
  | {
      kind: 'sse';
      events: string[];
      chunkDelayMs?: number;
      headers?: Record<string, string>;
      status?: number;
      thenReset?: boolean;
      hang?: boolean;
    }
  | {
      kind: 'reset';
      afterHeaders?: boolean;
      afterBytes?: string;
      status?: number;
      headers?: Record<string, string>;
    }
  | { kind: 'hang' }
  | { kind: 'headersThenSilence'; status?: number; headers?: Record<string, string> }
  | {
      kind: 'trickle';
      body: string;
      bytesPerTick: number;
      tickMs: number;
      status?: number;
      headers?: Record<string, string>;
    };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkDelay(value: unknown, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`fault step: '${name}' must be a finite number >= 0 (ms), got ${String(value)}`);
  }
}

function checkStatus(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 100 || value > 999) {
    throw new RangeError(`fault step: 'status' must be an integer in 100-999, got ${String(value)}`);
  }
}

function checkHeaders(value: unknown): void {
  if (value === undefined) return;
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new TypeError("fault step: 'headers' must be a Record<string, string>");
  }
}

/**
 * Validates a step received from (possibly untyped) test code.
 * @throws TypeError / RangeError naming the field that is wrong and what it must be.
 */
export function validateStep(step: unknown): FaultStep {
  if (!isRecord(step)) throw new TypeError('fault step must be an object');
  checkStatus(step.status);
  checkHeaders(step.headers);
  switch (step.kind) {
    case 'json':
      checkDelay(step.delayMs, 'delayMs');
      break;
    case 'raw':
      checkDelay(step.delayMs, 'delayMs');
      if (typeof step.body !== 'string' && !Buffer.isBuffer(step.body)) {
        throw new TypeError("fault step 'raw': 'body' must be a string or a Buffer");
      }
      break;
    case 'sse': {
      const events = step.events;
      if (!Array.isArray(events) || !events.every((e) => typeof e === 'string')) {
        throw new TypeError("fault step 'sse': 'events' must be an array of strings");
      }
      checkDelay(step.chunkDelayMs, 'chunkDelayMs');
      break;
    }
    case 'reset':
      if (step.afterBytes !== undefined && typeof step.afterBytes !== 'string') {
        throw new TypeError("fault step 'reset': 'afterBytes' must be a string");
      }
      break;
    case 'hang':
    case 'headersThenSilence':
      break;
    case 'trickle': {
      if (typeof step.body !== 'string') throw new TypeError("fault step 'trickle': 'body' must be a string");
      const bpt = step.bytesPerTick;
      if (typeof bpt !== 'number' || !Number.isInteger(bpt) || bpt < 1) {
        throw new RangeError(
          `fault step 'trickle': 'bytesPerTick' must be an integer >= 1, got ${String(bpt)}`,
        );
      }
      if (step.tickMs === undefined) throw new RangeError("fault step 'trickle': 'tickMs' is required");
      checkDelay(step.tickMs, 'tickMs');
      break;
    }
    default:
      throw new TypeError(`fault step: unknown kind ${JSON.stringify(step.kind)}`);
  }
  return step as FaultStep;
}
