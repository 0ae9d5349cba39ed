/**
 * Crash recovery of the `openai-batch` / `anthropic-batch` executors: {@link resolveIntents} turns the
 * intents a killed run left in the state file (a create sent, its batch id never recorded) into
 * recorded batches when the provider has the batch, so the rerun re-attaches to it instead of
 * creating it again (and paying twice); an intent whose batch is not found is dropped and its items
 * go into new batches as usual.
 *
 * How the batch is found: OpenAI by its `metadata` tag (`aiwire_run` = the state file's `run_id`,
 * `aiwire_chunk` = the intent's chunk number), exact; Anthropic, whose message batches have no
 * metadata, by position and size (see `findAnthropicBatch`). Either way only the batches newer than
 * the one that was newest before the create are read, at most `SEARCH_LIMIT` of them.
 */
import type { BatchStateFile } from './batch-state.js';
import type { ProviderBatchAPI } from './provider-api.js';

/** An event of the recovery, reported through the executor's `onStatus`. */
export interface AdoptEvent {
  /** `adopted`: the batch of an unrecorded create was found and recorded; `ambiguous`: several could be it, none adopted. */
  type: 'adopted' | 'ambiguous';
  /** The batch adopted (`adopted`). */
  batchId?: string | undefined;
  /** The batches that could be it (`ambiguous`): check them, cancel the extra one. */
  batchIds?: string[] | undefined;
  /** Items in the intent. */
  requests: number;
  /** One line for a person. */
  message: string;
}

/**
 * Resolve every intent of `state`: adopt its batch (recorded like one this run created, `adopted:
 * true`) or drop it. Call before the recorded batches are read.
 *
 * @throws the API's error when listing the batches fails (the intents stay: rerun to try again).
 */
export async function resolveIntents(
  api: ProviderBatchAPI,
  state: BatchStateFile,
  signal: AbortSignal,
  report: (event: AdoptEvent) => void,
): Promise<void> {
  for (const intent of state.intents()) {
    const tag = { run: state.runId, chunk: intent.chunk };
    const found = await api.findCreated(intent, tag, state.knownIds(), signal);
    if (found.id === null) {
      if (found.ambiguous.length > 0) {
        report({
          type: 'ambiguous',
          batchIds: found.ambiguous,
          requests: intent.custom_ids.length,
          message: `${api.provider}: a run stopped after creating a batch of ${intent.custom_ids.length} requests without recording it; ${found.ambiguous.length} batches (${found.ambiguous.join(', ')}) could be it, so its items are sent again: cancel the extra batch if one of them is it`,
        });
      }
      await state.dropIntent(intent.chunk);
      continue;
    }
    await state.add({
      id: found.id,
      group: intent.group,
      created_at: intent.at,
      custom_ids: intent.custom_ids,
      ...(intent.input_hashes ? { input_hashes: intent.input_hashes } : {}),
      chunk: intent.chunk,
      adopted: true,
      ...(intent.renamed && Object.keys(intent.renamed).length ? { renamed: intent.renamed } : {}),
    });
    report({
      type: 'adopted',
      batchId: found.id,
      requests: intent.custom_ids.length,
      message: `${api.provider} batch ${found.id} was created by a run that stopped before recording it: adopted (not created again)`,
    });
  }
}
