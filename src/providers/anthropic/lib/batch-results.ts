/**
 * JSON Lines bodies read as they stream: `client.messages.batches.results(id)` resolves to a
 * `JSONLDecoder<MessageBatchIndividualResponse>` (as @anthropic-ai/sdk), iterated with
 * `for await (const entry of await client.messages.batches.results(id))`.
 *
 * The JSONL decoding itself is `src/core/jsonl.ts`.
 */
import { JSONLDecoder } from '../../../core/jsonl.js';
import type {
  BetaMessageBatchIndividualResponse,
  MessageBatchIndividualResponse,
} from '../generated/schemas.js';

// The decoder moved to core (shared with OpenAI's batches.run); re-exported here for existing imports.
export { decodeJSONL, JSONLDecodeError, JSONLDecoder } from '../../../core/jsonl.js';

/**
 * `messages.batches.results(id)`'s result: the results file (the binary `Response` the generated
 * method resolves to) as `JSONLDecoder<MessageBatchIndividualResponse>`. Wire with the naming table's
 * `unwrap` (`._thenUnwrap(batchResultsDecoder)`).
 */
export function batchResultsDecoder(response: Response): JSONLDecoder<MessageBatchIndividualResponse> {
  return JSONLDecoder.fromResponse<MessageBatchIndividualResponse>(response);
}

/** `beta.messages.batches.results(id)`'s result, as {@link batchResultsDecoder}. */
export function betaBatchResultsDecoder(
  response: Response,
): JSONLDecoder<BetaMessageBatchIndividualResponse> {
  return JSONLDecoder.fromResponse<BetaMessageBatchIndividualResponse>(response);
}
