/**
 * The state file of the `openai-batch` / `anthropic-batch` executors: the provider batches a run
 * created and the items each holds, so a rerun re-attaches to them instead of submitting (and paying
 * for) the items again. Written whole, atomically (a temporary file in the same directory renamed
 * over it), right after each batch is created and when a batch's results have all been emitted.
 *
 * Format (JSON, version 1):
 * `{ "version": 1, "provider": "openai", "batches": [{ "id": "batch_…", "group": "/v1/chat/completions",
 *    "created_at": "<ISO 8601>", "custom_ids": ["a", …], "input_hashes": ["<16 hex>", …],
 *    "renamed": { "aiwire_1": "a:b" }, "collected": false }] }`, where `input_hashes` are the items'
 *    input line hashes (a rerun attaches an item only if its line is unchanged), and `renamed` maps the id a request had in the batch to its
 * `custom_id` when the provider could not take the `custom_id` as is (Anthropic allows 1–64 of
 * `[A-Za-z0-9_-]`), and `collected` says every result of the batch has been emitted.
 *
 * Crash safety (fields added in place, version 1 files without them still read): `run_id` (random,
 * made when the file is first written) and `next_chunk` number the run's batches; before each create
 * an {@link BatchIntent} is written to `intents` (the chunk number, its `custom_ids`, and the newest
 * batch id the account had then), and the create tags the batch with the run and chunk where the API
 * allows (OpenAI `metadata.aiwire_run` / `aiwire_chunk`). The intent is replaced by the batch's record
 * in the same write. A run killed between the create and that write leaves the intent: the next run
 * looks for the batch among the account's recent batches (see `batch-adopt.ts`) and adopts it instead
 * of creating it again.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { AiwireError } from '../../core/errors.js';
import type { BatchAPIProvider } from './provider-api.js';

/** One provider batch the state file records. */
export interface RecordedBatch {
  /** The provider's batch id. */
  id: string;
  /** The group it was made for (OpenAI: the endpoint). */
  group: string;
  /** When it was created (ISO 8601). */
  created_at: string;
  /** The `custom_id` of each of its requests. */
  custom_ids: string[];
  /**
   * The input line hash (`input_hash`) of each request, in the order of `custom_ids` (`''`: unknown).
   * A rerun attaches an item to this batch only when its line still has that hash.
   */
  input_hashes?: string[] | undefined;
  /** Batch request id → `custom_id`, for the requests that were renamed. */
  renamed?: Record<string, string> | undefined;
  /** Every result has been emitted: a rerun does not attach to it. */
  collected: boolean;
  /** The chunk number the run gave it (absent in files written before intents existed). */
  chunk?: number | undefined;
  /** Set when the batch was found for an intent after a crash rather than recorded at its create. */
  adopted?: boolean | undefined;
}

/** A batch about to be created: written before the create, replaced by its record after. */
export interface BatchIntent {
  /** The chunk number (unique in the run; the batch's `aiwire_chunk` tag). */
  chunk: number;
  /** The group it is made for (OpenAI: the endpoint). */
  group: string;
  /** When the create was about to be sent (ISO 8601). */
  at: string;
  /** The `custom_id` of each of its requests. */
  custom_ids: string[];
  /** The input line hash of each request, in the order of `custom_ids`. */
  input_hashes?: string[] | undefined;
  /** Batch request id → `custom_id`, for the requests that were renamed. */
  renamed?: Record<string, string> | undefined;
  /**
   * The newest batch on the account just before the create, where a search stops; null: the account
   * had none (every batch listed is newer); absent: it could not be listed (the search is bounded by
   * `SEARCH_LIMIT` only, Anthropic's also by time).
   */
  newest_before?: string | null | undefined;
}

/** The state file's content. */
export interface BatchState {
  version: 1;
  provider: BatchAPIProvider;
  batches: RecordedBatch[];
  /** This run's id (the batches' `aiwire_run` tag); made on the first write. */
  run_id?: string | undefined;
  /** The next chunk number to give. */
  next_chunk?: number | undefined;
  /** Creates sent (or about to be) whose batch id is not recorded yet. */
  intents?: BatchIntent[] | undefined;
}

/** Reads and writes one state file; writes are serialised. */
export class BatchStateFile {
  readonly path: string;
  readonly #provider: BatchAPIProvider;
  #state: BatchState;
  #writing: Promise<void> = Promise.resolve();
  #tmpCounter = 0;

  private constructor(path: string, provider: BatchAPIProvider, state: BatchState) {
    this.path = path;
    this.#provider = provider;
    this.#state = state;
  }

  /**
   * Open `path` (a missing file is an empty state).
   * @throws AiwireError when the file is not a version-1 state file, or records another provider's
   *   batches (with what to do).
   */
  static async open(path: string, provider: BatchAPIProvider): Promise<BatchStateFile> {
    let text: string;
    try {
      text = await fsp.readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        return new BatchStateFile(path, provider, { version: 1, provider, batches: [] });
      }
      throw new AiwireError(`Cannot read the batch state file ${path}: ${(e as Error).message}`);
    }
    let state: BatchState;
    try {
      state = JSON.parse(text) as BatchState;
    } catch (e) {
      throw new AiwireError(
        `The batch state file ${path} is not JSON (${(e as Error).message}); move it away to start over (batches it recorded are not resumed)`,
      );
    }
    if (state?.version !== 1 || !Array.isArray(state.batches)) {
      throw new AiwireError(`${path} is not an aiwire batch state file (version 1)`);
    }
    if (state.provider !== provider) {
      throw new AiwireError(
        `The batch state file ${path} records ${state.provider} batches; run with --via ${state.provider}-batch to resume them, or use another state file`,
      );
    }
    return new BatchStateFile(path, provider, state);
  }

  /** The batches not collected yet. */
  open(): RecordedBatch[] {
    return this.#state.batches.filter((b) => !b.collected);
  }

  /** The run's id (made now when the file has none; written with the next write). */
  get runId(): string {
    this.#state.run_id ??= randomUUID();
    return this.#state.run_id;
  }

  /** The ids of every batch recorded (collected or not). */
  knownIds(): Set<string> {
    return new Set(this.#state.batches.map((b) => b.id));
  }

  /** The intents left by a run that stopped between a create and its record. */
  intents(): BatchIntent[] {
    return [...(this.#state.intents ?? [])];
  }

  /**
   * Record that a batch is about to be created (a fresh chunk number, the rest from `intent`) and
   * write the file; resolves to the intent written.
   */
  async intend(intent: Omit<BatchIntent, 'chunk'>): Promise<BatchIntent> {
    void this.runId;
    const chunk = this.#state.next_chunk ?? 1;
    this.#state.next_chunk = chunk + 1;
    const full: BatchIntent = { chunk, ...intent };
    this.#state.intents = [...(this.#state.intents ?? []), full];
    await this.#write();
    return full;
  }

  /** Forget an intent (its create surely did not happen, or its batch was not found) and write the file. */
  dropIntent(chunk: number): Promise<void> {
    this.#state.intents = (this.#state.intents ?? []).filter((i) => i.chunk !== chunk);
    return this.#write();
  }

  /** Record a created batch (replacing the intent of its `chunk`, if any) and write the file. */
  add(batch: Omit<RecordedBatch, 'collected'>): Promise<void> {
    this.#state.batches.push({ ...batch, collected: false });
    if (batch.chunk !== undefined) {
      this.#state.intents = (this.#state.intents ?? []).filter((i) => i.chunk !== batch.chunk);
    }
    return this.#write();
  }

  /** Mark a batch collected and write the file. */
  collected(id: string): Promise<void> {
    for (const b of this.#state.batches) if (b.id === id) b.collected = true;
    return this.#write();
  }

  /** Write the whole state to a temporary file, then rename it over the state file. */
  #write(): Promise<void> {
    const text = `${JSON.stringify({ ...this.#state, provider: this.#provider })}\n`;
    const next = this.#writing.then(async () => {
      const tmp = `${this.path}.${process.pid}.${++this.#tmpCounter}.tmp`;
      await fsp.writeFile(tmp, text);
      await fsp.rename(tmp, this.path);
    });
    this.#writing = next.catch(() => {});
    return next;
  }
}
