/**
 * The state file of the `openai-batch` / `anthropic-batch` executors: the provider batches a run
 * created and the items each holds, so a rerun re-attaches to them instead of submitting (and paying
 * for) the items again. Written whole, atomically (a temporary file in the same directory renamed
 * over it), right after each batch is created and when a batch's results have all been emitted.
 *
 * Format (JSON, version 1):
 * `{ "version": 1, "provider": "openai", "batches": [{ "id": "batch_…", "group": "/v1/chat/completions",
 *    "created_at": "<ISO 8601>", "custom_ids": ["a", …], "renamed": { "aiwire_1": "a:b" },
 *    "collected": false }] }`, where `renamed` maps the id a request had in the batch to its
 * `custom_id` when the provider could not take the `custom_id` as is (Anthropic allows 1–64 of
 * `[A-Za-z0-9_-]`), and `collected` says every result of the batch has been emitted.
 */
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
  /** Batch request id → `custom_id`, for the requests that were renamed. */
  renamed?: Record<string, string> | undefined;
  /** Every result has been emitted: a rerun does not attach to it. */
  collected: boolean;
}

/** The state file's content. */
export interface BatchState {
  version: 1;
  provider: BatchAPIProvider;
  batches: RecordedBatch[];
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

  /** Record a created batch and write the file. */
  add(batch: Omit<RecordedBatch, 'collected'>): Promise<void> {
    this.#state.batches.push({ ...batch, collected: false });
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
