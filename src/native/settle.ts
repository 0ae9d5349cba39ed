/**
 * The JS half of the settle queue (`src/native/settle.rs`): buffered requests return no promise from
 * Rust; each gets an id, and the engine hands every request finished since its last wake-up to one
 * callback as a flat array (12 slots per request). One wake-up of the JS thread then settles many
 * requests, instead of one thread-safe function and one wake-up per request (what napi-rs' async
 * functions cost: ~10 µs of CPU per request here).
 */
import type * as Binding from './binding.js';

/** A request's outcome as the TS layer reads it (buffered responses and stream heads alike). */
export interface NativeResult {
  /** True for a 2xx response (or an open stream). */
  readonly ok: boolean;
  /** HTTP status, 0 when there was no response. */
  readonly status: number;
  /**
   * One header's first value (name lower case), or null, without splitting every header into an array
   * (the request id is read from every response). Absent on results built by hand.
   */
  header?(name: string): string | null;
  /** Response headers, flat `[name, value, …]`, names lower case. */
  readonly headers: string[];
  /**
   * The body: a string for text requests (`textBody`), else bytes (a Node `Buffer`, typed as its
   * base class `Uint8Array` so these typings need no `@types/node`); absent without a body.
   */
  readonly body?: string | Uint8Array | null | undefined;
  /** `connection` | `timeout` | `aborted` | `status` | `decode` | `invalid_request`, when not ok. */
  readonly errorKind?: string | null | undefined;
  /** A description without URL or secrets, when not ok. */
  readonly errorMessage?: string | null | undefined;
  /**
   * A stable code for the failure when one is known: Node's names (`ECONNREFUSED`, `ECONNRESET`,
   * `ENOTFOUND`, `ETIMEDOUT`, `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`, `CERT_HAS_EXPIRED`,
   * `ERR_TLS_CERT_ALTNAME_INVALID`, …) or `ERR_PROXY_AUTH` (the proxy refused the credentials).
   */
  readonly errorCode?: string | undefined;
  /**
   * With `trace: true` on the request: one line per failed attempt before this outcome, tab-separated:
   * attempt, status (0: none), duration (ms), `retry` | `resend`, wait (ms), error message.
   */
  readonly trace?: string | undefined;
  /** Attempts made (1 = no retry). */
  readonly attempts: number;
  /** With `decode: 'float-vectors'`: every vector's values, concatenated (the body holds `0` in their place). */
  readonly vectors?: Float64Array | undefined;
  /** With `vectors`: vector `i` is `vectors[vectorOffsets[i] .. vectorOffsets[i + 1]]`. */
  readonly vectorOffsets?: Uint32Array | undefined;
  /** With `vectors`: the body as JSON text without them (each `embedding` is `0`); `body` is the original. */
  readonly decodedBody?: string | undefined;
}

/**
 * Slots per request in a settled batch: id, status, attempts, headers, body, errorKind, errorMessage,
 * vectors, vectorOffsets, decodedBody, errorCode, trace.
 */
const FIELDS = 12;

/** A settled buffered request; headers are split from their one-string form only when read. */
class SettledResult implements NativeResult {
  readonly status: number;
  readonly attempts: number;
  readonly body: string | Buffer | undefined;
  readonly errorKind: string | undefined;
  readonly errorMessage: string | undefined;
  readonly vectors: Float64Array | undefined;
  readonly vectorOffsets: Uint32Array | undefined;
  readonly decodedBody: string | undefined;
  readonly errorCode: string | undefined;
  readonly trace: string | undefined;
  #headerText: string;
  #headers: string[] | undefined;

  constructor(
    status: number,
    attempts: number,
    headerText: string,
    body: string | Buffer | undefined,
    errorKind: string | undefined,
    errorMessage: string | undefined,
    vectors: Float64Array | undefined,
    vectorOffsets: Uint32Array | undefined,
    decodedBody: string | undefined,
    errorCode: string | undefined,
    trace: string | undefined,
  ) {
    this.status = status;
    this.attempts = attempts;
    this.#headerText = headerText;
    this.body = body;
    this.errorKind = errorKind;
    this.errorMessage = errorMessage;
    this.vectors = vectors;
    this.vectorOffsets = vectorOffsets;
    this.decodedBody = decodedBody;
    this.errorCode = errorCode;
    this.trace = trace;
  }

  get ok(): boolean {
    return this.errorKind === undefined;
  }

  header(name: string): string | null {
    if (this.#headers !== undefined) {
      for (let i = 0; i + 1 < this.#headers.length; i += 2)
        if (this.#headers[i] === name) return this.#headers[i + 1] as string;
      return null;
    }
    // The text is `name\nvalue\nname\nvalue…`: a name sits at the start or right after a line feed, and
    // names and values alternate, so a match must be at an even line.
    const text = this.#headerText;
    let from = 0;
    for (;;) {
      const at = text.indexOf(name, from);
      if (at < 0) return null;
      const end = at + name.length;
      if ((at === 0 || text.charCodeAt(at - 1) === 10) && text.charCodeAt(end) === 10) {
        let lines = 0;
        for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) lines++;
        if (lines % 2 === 0) {
          const stop = text.indexOf('\n', end + 1);
          return text.slice(end + 1, stop < 0 ? text.length : stop);
        }
      }
      from = at + 1;
    }
  }

  get headers(): string[] {
    if (this.#headers === undefined) this.#headers = this.#headerText ? this.#headerText.split('\n') : [];
    return this.#headers;
  }
}

type Resolve = (result: NativeResult) => void;

/** Per-process (per addon instance) dispatcher: the pending promises by id. */
interface Dispatcher {
  pending: Map<number, Resolve>;
  nextId: number;
  binding: typeof Binding;
}

// The ESM and CJS builds of aiwire may both be loaded in one process; Node hands both the same addon
// exports object, so the dispatcher lives on it and is created once.
const DISPATCHER = Symbol.for('aiwire.settle.dispatcher');

function dispatcherOf(binding: typeof Binding): Dispatcher {
  const holder = binding as unknown as { [DISPATCHER]?: Dispatcher };
  let d = holder[DISPATCHER];
  if (d) return d;
  const created: Dispatcher = { pending: new Map(), nextId: 0, binding };
  binding.setSettleCallback((flat) => {
    const pending = created.pending;
    for (let i = 0; i + FIELDS <= flat.length; i += FIELDS) {
      const id = flat[i] as number;
      const resolve = pending.get(id);
      if (!resolve) continue;
      pending.delete(id);
      resolve(
        new SettledResult(
          flat[i + 1] as number,
          flat[i + 2] as number,
          flat[i + 3] as string,
          flat[i + 4] as string | Buffer | undefined,
          flat[i + 5] as string | undefined,
          flat[i + 6] as string | undefined,
          flat[i + 7] as Float64Array | undefined,
          flat[i + 8] as Uint32Array | undefined,
          flat[i + 9] as string | undefined,
          flat[i + 10] as string | undefined,
          flat[i + 11] as string | undefined,
        ),
      );
    }
    if (pending.size === 0) binding.settleKeepAlive(false);
  });
  holder[DISPATCHER] = created;
  d = created;
  return d;
}

/**
 * Give a new id to `begin` (which starts the native work and may throw), then wait for that id's
 * slots in a settled batch. Keeps Node alive while anything is pending.
 */
function start<T>(
  binding: typeof Binding,
  begin: (id: number) => T,
): { value: T; settled: Promise<NativeResult> } {
  const d = dispatcherOf(binding);
  const id = d.nextId;
  const value = begin(id);
  d.nextId = id === 0xffffffff ? 0 : id + 1;
  if (d.pending.size === 0) binding.settleKeepAlive(true);
  const settled = new Promise<NativeResult>((resolve) => {
    d.pending.set(id, resolve);
  });
  return { value, settled };
}

/**
 * Start a server-sent-events request: the native stream handle at once, and a promise of its
 * response head through the settle queue (a 2xx head has no body; a failure after retries has
 * `errorKind`, and the error body for a status error). Read the events with `handle.nextBatch()`.
 * @throws what `engine.stream` throws synchronously (invalid method or timeout).
 */
export function openStream(
  binding: typeof Binding,
  engine: Binding.NativeEngine,
  req: Binding.NativeRequest,
  cancel: Binding.CancelToken | undefined,
  options: Binding.StreamOptions | undefined,
): { handle: Binding.NativeStream; head: Promise<NativeResult> } {
  const { value, settled } = start(binding, (id) => engine.stream(id, req, cancel, options));
  return { handle: value, head: settled };
}

/**
 * Send one buffered request through `engine`. Resolves exactly once with its `NativeResult` (HTTP and
 * network failures included: check `ok`/`errorKind`); rejects only when the request is invalid
 * (synchronous `InvalidArg` from the engine: bad method or timeout).
 */
export function sendRequest(
  binding: typeof Binding,
  engine: Binding.NativeEngine,
  req: Binding.NativeRequest,
  cancel: Binding.CancelToken | undefined,
): Promise<NativeResult> {
  try {
    return start(binding, (id) => engine.request(id, req, cancel)).settled;
  } catch (e) {
    return Promise.reject(e);
  }
}
