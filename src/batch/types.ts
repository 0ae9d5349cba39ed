/**
 * The shapes every part of `aiwire/batch` agrees on: an input line ({@link BatchItem}), an output line
 * ({@link BatchOutputLine}, OpenAI's batch output shape plus a typed error), and an executor
 * ({@link BatchExecutor}: `local`, `openai-batch`, `anthropic-batch`, `queue`).
 *
 * Input follows OpenAI's batch input file (https://platform.openai.com/docs/guides/batch):
 * `{"custom_id": "...", "method": "POST", "url": "/v1/chat/completions", "body": {...}}`, and the same
 * shape for the other providers' operations (`/v1/messages` for Anthropic).
 */

/** The providers a batch line can go to. */
export type BatchProvider = 'openai' | 'anthropic' | 'replicate' | 'codegen' | 'aivillage';

/** One input line, validated. */
export interface BatchItem {
  /** The caller's id, unique in the input; the output line carries it back. */
  custom_id: string;
  /** HTTP method, upper case (`POST` by default). */
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The operation's path with its version prefix, as in OpenAI's batch files (`/v1/chat/completions`). */
  url: string;
  /** The JSON body (absent for GET/DELETE). */
  body?: unknown;
  /** 1-based line number in the input file (for error messages). */
  line: number;
}

/**
 * Why an item failed. `code` is stable: the provider's error code or type when the server answered
 * (`rate_limit_exceeded`, `invalid_request_error`, …), else aiwire's kind (`connection_error`,
 * `timeout`, `circuit_open`, `rate_limited_locally`, `invalid_input`, `aborted`).
 */
export interface BatchItemError {
  /** Stable error code (see above). */
  code: string;
  /** Human-readable message: what was wrong and, where known, how to fix it. */
  message: string;
  /** The aiwire error class name (`RateLimitError`, `APIConnectionError`, `BadRequestError`, …). */
  type: string;
  /** HTTP status when the server answered, else null. */
  status: number | null;
  /** Whether sending the item again may succeed (429, 408, 409, >= 500, connection errors, timeouts). */
  retryable: boolean;
  /** For `invalid_input`: the 1-based line of the input file the error is about. */
  line?: number | undefined;
}

/**
 * One output line, OpenAI's batch output shape (`id`, `custom_id`, `response`, `error`) so existing
 * readers of Batch API output read it unchanged. `response` is the HTTP answer when there was one
 * (2xx or not); `error` is set for every failure (non-2xx answers included), null on success.
 */
export interface BatchOutputLine {
  /** This line's id (`batch_req_<random>`), or the provider batch's per-request id. */
  id: string;
  /** The input's `custom_id`. */
  custom_id: string;
  /** The HTTP answer, or null when none came (connection failure, invalid input). */
  response: { status_code: number; request_id: string | null; body: unknown } | null;
  /** Why the item failed; null on success. */
  error: BatchItemError | null;
  /**
   * The first 16 hex digits of the SHA-256 of the input line (set by the runner when it writes the
   * line): a resumed run sends an id again when its input line no longer has this hash.
   */
  input_hash?: string | undefined;
}

/** What the runner hands an executor. */
export interface BatchExecutorContext {
  /** Aborted on Ctrl-C / `runBatch({ signal })`: stop taking items, let in-flight ones settle or abort. */
  signal: AbortSignal;
  /** Items in flight at once (executors that run requests themselves). */
  concurrency: number;
  /**
   * Record one finished item. The runner appends the line to the output (whole line or nothing) and
   * updates progress. Call it exactly once per item the executor took; await it (it applies
   * back-pressure).
   */
  emit(line: BatchOutputLine): Promise<void>;
  /**
   * Aborted when in-flight requests must stop too: `drainTimeoutMs` after `signal`, or at once on a
   * second interrupt (`runBatch({ forceSignal })`). The executor may then return without waiting for
   * them: lines emitted after `run` returned are dropped, and so are lines whose error is `aborted`
   * (those items stay unwritten, so the next run sends them again).
   */
  abortInFlight: AbortSignal;
}

/** A way to run the items: `local`, `openai-batch`, `anthropic-batch` or `queue`. */
export interface BatchExecutor {
  /** Name shown in progress and the summary. */
  readonly name: string;
  /**
   * The factor the run's `prices` are multiplied by for the items this executor runs (a number >= 0).
   * Absent: 1 (standard prices). The provider batch executors set 0.5: OpenAI's Batch API and
   * Anthropic's Message Batches API bill at 50% of the standard price.
   */
  readonly priceMultiplier?: number | undefined;
  /**
   * Run every item of `items` (already filtered: ids done in a previous run are not in it) and `emit`
   * one line per item. Resolves when all are emitted or `signal` aborted.
   */
  run(items: AsyncIterable<BatchItem>, ctx: BatchExecutorContext): Promise<void>;
}
