/**
 * The Chat Completions helpers as the generated `Completions` resource calls them (one line each, see
 * `HELPERS` in scripts/generate/openai-names.mjs): `parse()`, `stream()`, `runTools()`.
 */
import type { APIPromise } from '../../../core/api-promise.js';
import type { RequestOptions } from '../../../core/client.js';
import type { ChatCompletion } from '../resources/chat/completions.js';
import { ChatCompletionStream, ChatCompletionStreamingRunner } from './chat-completion-stream.js';
import { ChatCompletionRunner } from './chat-runner.js';
import type { ChatCompletionsCreate } from './chat-runner-base.js';
import type {
  ChatCompletionParseParams,
  ChatCompletionStreamingToolRunnerParams,
  ChatCompletionStreamParams,
  ChatCompletionToolRunnerParams,
  ExtractParsedContentFromParams,
  ParsedChatCompletion,
  RunnerOptions,
} from './chat-types.js';
import { type ParseParams, parseChatCompletion, validateInputTools } from './parser.js';
import { keepRequestID } from './responses-parser.js';

/** The resource's `create`, returning aiwire's `APIPromise`. */
interface Completions extends ChatCompletionsCreate {
  create(body: ChatCompletionParseParams, options?: RequestOptions): APIPromise<ChatCompletion>;
}

/**
 * `client.chat.completions.parse(body, options)`: `create` (not streamed), then `message.parsed` and
 * `parsed_arguments` (see parser.ts). Tools must be strict function tools.
 * @throws OpenAIError (synchronously) for a tool that is not a strict function tool; (rejects) the
 *   request's errors, LengthFinishReasonError, ContentFilterFinishReasonError, the parser's errors.
 */
export function parseCompletion<
  Params extends ChatCompletionParseParams,
  ParsedT = ExtractParsedContentFromParams<Params>,
>(
  completions: Completions,
  body: Params,
  options?: RequestOptions,
): APIPromise<ParsedChatCompletion<ParsedT>> {
  validateInputTools(body.tools);
  return completions
    .create(body, options)
    ._thenUnwrap((completion) =>
      keepRequestID(completion, parseChatCompletion<ParsedT>(completion, body as ParseParams)),
    );
}

/** `client.chat.completions.stream(body, options)`: a `ChatCompletionStream`. */
export function streamCompletion<
  Params extends ChatCompletionStreamParams,
  ParsedT = ExtractParsedContentFromParams<Params>,
>(completions: ChatCompletionsCreate, body: Params, options?: RequestOptions): ChatCompletionStream<ParsedT> {
  return ChatCompletionStream.createChatCompletion<ParsedT>(completions, body, options);
}

/** `client.chat.completions.runTools(body, options)`: a `ChatCompletionRunner`, or with `stream: true` a `ChatCompletionStreamingRunner`. */
export function runTools<ParsedT = null>(
  completions: ChatCompletionsCreate,
  body: ChatCompletionToolRunnerParams | ChatCompletionStreamingToolRunnerParams,
  options?: RunnerOptions,
): ChatCompletionRunner<ParsedT> | ChatCompletionStreamingRunner<ParsedT> {
  if (body.stream) {
    return ChatCompletionStreamingRunner.runTools<ParsedT>(
      completions,
      body as ChatCompletionStreamingToolRunnerParams,
      options,
    );
  }
  return ChatCompletionRunner.runTools<ParsedT>(completions, body as ChatCompletionToolRunnerParams, options);
}
