/**
 * Errors of the OpenAI parsing helpers (`chat.completions.parse()`, `.stream()` and `.runTools()` with
 * an auto-parseable `response_format` or strict tools), named and worded as openai-node's so
 * `instanceof` checks and messages port unchanged. Both extend `AiwireError` (exported as
 * `OpenAIError`), like every error aiwire throws.
 */
import { AiwireError } from '../../../core/errors.js';

/** The model stopped at the token limit (`finish_reason: 'length'`): the content can't be parsed. */
export class LengthFinishReasonError extends AiwireError {
  constructor() {
    super('Could not parse response content as the length limit was reached');
  }
}

/** The content filter stopped the answer (`finish_reason: 'content_filter'`): nothing to parse. */
export class ContentFilterFinishReasonError extends AiwireError {
  constructor() {
    super('Could not parse response content as the request was rejected by the content filter');
  }
}
