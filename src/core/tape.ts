/**
 * Replays a JSON tape (crates/engine/src/json_tape.rs) into JS values: the stream events' JSON was
 * parsed in Rust; here objects are built by per-shape object-literal factories (one hidden class per
 * shape, no key lookups) and short strings come from the stream's string table. The result equals
 * `JSON.parse` of each event's text: same values, key order and duplicate-key rule; events Rust could
 * not parse arrive as text (`RAW`) and go through `JSON.parse` here.
 */
import { APIError } from './errors.js';

const OP_NULL = 0;
const OP_TRUE = 1;
const OP_FALSE = 2;
const OP_INT = 3;
const OP_NUM = 4;
const OP_STR = 5;
const OP_STR_KEEP = 6;
const OP_SREF = 7;
const OP_ARR = 8;
const OP_OBJ = 9;
const OP_RAW = 10;

/** One batch of a tape, as the native stream hands it over. */
export interface TapeBatch {
  count: number;
  text?: string | null;
  ops?: Uint32Array | null;
  nums?: Float64Array | null;
  defs?: Uint32Array | null;
}

/** Builds one object of a shape; calls `next()` once per key, in key order. */
type Factory = (next: () => unknown) => Record<string, unknown>;

// Factories are shared by every stream: a shape (its key list) is compiled once per process.
const FACTORY_CACHE_MAX = 4096;
const factories = new Map<string, Factory>();
let codegen = true;

function compile(keys: string[]): Factory {
  if (codegen && keys.length <= 256) {
    try {
      // Keys are embedded as JSON string literals; `__proto__` must be computed to be an own property.
      const props = keys.map((k) => `${k === '__proto__' ? '["__proto__"]' : JSON.stringify(k)}: v()`);
      return new Function('v', `"use strict"; return { ${props.join(', ')} };`) as Factory;
    } catch {
      codegen = false; // e.g. node --disallow-code-generation-from-strings
    }
  }
  return (next) => {
    const o: Record<string, unknown> = {};
    for (const k of keys) {
      Object.defineProperty(o, k, { value: next(), writable: true, enumerable: true, configurable: true });
    }
    return o;
  };
}

function factoryFor(keys: string[]): Factory {
  const id = JSON.stringify(keys);
  let f = factories.get(id);
  if (!f) {
    if (factories.size >= FACTORY_CACHE_MAX) factories.clear();
    f = compile(keys);
    factories.set(id, f);
  }
  return f;
}

const NO_OPS = new Uint32Array(0);
const NO_NUMS = new Float64Array(0);

// Replay state of the batch being decoded (decoding is synchronous, so one set suffices).
let ops: Uint32Array = NO_OPS;
let nums: Float64Array = NO_NUMS;
let text = '';
let pos = 0;
let strings: string[] = [];
let shapes: Factory[] = [];

function value(): unknown {
  const op = ops[pos++];
  switch (op) {
    case OP_OBJ:
      return (shapes[ops[pos++] as number] as Factory)(value);
    case OP_SREF:
      return strings[ops[pos++] as number];
    case OP_STR_KEEP: {
      const s = text.slice(ops[pos] as number, ops[pos + 1] as number);
      strings.push(s);
      pos += 2;
      return s;
    }
    case OP_STR: {
      const s = text.slice(ops[pos] as number, ops[pos + 1] as number);
      pos += 2;
      return s;
    }
    case OP_INT:
      return ops[pos++];
    case OP_NUM:
      return nums[ops[pos++] as number];
    case OP_NULL:
      return null;
    case OP_TRUE:
      return true;
    case OP_FALSE:
      return false;
    case OP_ARR: {
      const n = ops[pos++] as number;
      const a = new Array(n);
      for (let i = 0; i < n; i++) a[i] = value();
      return a;
    }
    case OP_RAW: {
      const raw = text.slice(ops[pos] as number, ops[pos + 1] as number);
      pos += 2;
      try {
        return JSON.parse(raw);
      } catch (e) {
        const preview = JSON.stringify(raw.length > 200 ? `${raw.slice(0, 200)}…` : raw);
        throw new APIError(
          undefined,
          undefined,
          `Could not parse stream event as JSON (${(e as Error).message}): ${preview}`,
          undefined,
        );
      }
    }
    default:
      throw new Error(`aiwire: corrupt event tape (instruction ${String(op)} at ${pos - 1})`);
  }
}

// The decoder whose batch is in the module state above (reloading it for every value cost a write
// barrier per variable: ~2% of a stream's CPU).
let current: TapeDecoder | undefined;

function release(): void {
  current = undefined;
  ops = NO_OPS;
  nums = NO_NUMS;
  text = '';
  strings = [];
  shapes = [];
}

/**
 * Per-stream replay state: the string table, the stream's shapes and the current batch. Values are
 * decoded one at a time as the consumer asks for them, so a chunk object is built just before it is
 * handed out and is usually garbage before the next scavenge (decoding a whole batch of 256 up front
 * made every pending chunk survive one: ~8% of a stream's CPU in V8's scavenger).
 */
export class TapeDecoder {
  #strings: string[] = [];
  #shapes: Factory[] = [];
  #ops: Uint32Array = NO_OPS;
  #nums: Float64Array = NO_NUMS;
  #text = '';
  #pos = 0;
  #left = 0;

  /** Values of the current batch not yet taken. */
  get remaining(): number {
    return this.#left;
  }

  /** Make `batch` current (after the previous one was taken): its shapes are defined now. */
  load(batch: TapeBatch): void {
    if (current === this) release();
    const batchText = batch.text ?? '';
    const defs = batch.defs;
    if (defs) {
      for (let i = 0; i < defs.length; ) {
        const id = defs[i] as number;
        const n = defs[i + 1] as number;
        const keys = new Array<string>(n);
        for (let k = 0; k < n; k++) {
          keys[k] = batchText.slice(defs[i + 2 + 2 * k] as number, defs[i + 3 + 2 * k] as number);
        }
        this.#shapes[id] = factoryFor(keys);
        i += 2 + 2 * n;
      }
    }
    this.#ops = batch.ops ?? NO_OPS;
    this.#nums = batch.nums ?? NO_NUMS;
    this.#text = batchText;
    this.#pos = 0;
    this.#left = batch.count;
  }

  /** Drop this decoder's batch (the stream ended or was left early). */
  close(): void {
    if (current === this) release();
    this.#left = 0;
    this.#ops = NO_OPS;
    this.#nums = NO_NUMS;
    this.#text = '';
  }

  /**
   * The next value of the current batch (check `remaining` first).
   * @throws APIError when the event is not JSON (message names the parse failure and the event's
   *   first 200 characters); the stream cannot continue after that.
   */
  next(): unknown {
    if (current !== this) {
      current = this;
      ops = this.#ops;
      nums = this.#nums;
      text = this.#text;
      strings = this.#strings;
      shapes = this.#shapes;
    }
    pos = this.#pos;
    let v: unknown;
    try {
      v = value();
    } catch (e) {
      this.#left = 0;
      release();
      throw e;
    }
    this.#pos = pos;
    // The last value of a batch: do not keep the batch alive through module state.
    if (--this.#left === 0) release();
    return v;
  }
}
