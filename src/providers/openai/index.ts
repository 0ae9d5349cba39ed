/**
 * `aiwire/openai`: the OpenAI client, its resources and types.
 */
export { type AzureClientOptions, AzureOpenAI, azureOpenAISpec } from './azure.js';
export { type ClientOptions, OpenAI } from './client.js';
export { ChatCompletionStream, ChatCompletionStreamingRunner } from './lib/chat-completion-stream.js';
export { ChatCompletionRunner, ParsingToolFunction } from './lib/chat-runner.js';
export { AbstractChatCompletionRunner } from './lib/chat-runner-base.js';
export type * from './lib/chat-types.js';
export { createEmbeddings } from './lib/embeddings.js';
export { ContentFilterFinishReasonError, LengthFinishReasonError } from './lib/errors.js';
export { EventStream } from './lib/event-stream.js';
export {
  isAutoParsableResponseFormat,
  isAutoParsableTool,
  makeParseableResponseFormat,
  makeParseableTextFormat,
  makeParseableTool,
  maybeParseChatCompletion,
  parseChatCompletion,
  validateInputTools,
} from './lib/parser.js';
export {
  makeParseableResponseTool,
  type ParsedResponse,
  type ParsedResponseFunctionToolCall,
  type ParsedResponseOutputItem,
  type ParsedResponseOutputMessage,
  type ParsedResponseOutputText,
  parseResponse,
} from './lib/responses-parser.js';
export * from './lib/webhooks.js';
export * from './resources/index.js';
export { openAISpec, openAIStreamDecoder } from './spec.js';
