/**
 * `aiwire/openai`: the OpenAI client, its resources and types.
 */
export { type AzureClientOptions, AzureOpenAI, azureOpenAISpec } from './azure.js';
export { type ClientOptions, OpenAI } from './client.js';
// Issue 18, responses/polling/uploads/batches half: the stream helpers' classes and the helpers' types
// (the `snapshot`-carrying delta event types stay in lib/response-stream.ts: the resources export the
// API's types under those names).
export {
  AssistantStream,
  type AssistantStreamEvents,
  accumulateDelta,
  assistantStreamDecoder,
} from './lib/assistant-stream.js';
export {
  BatchFailedError,
  type BatchRequest,
  type BatchResult,
  type BatchRun,
  type BatchRunOptions,
} from './lib/batch-run.js';
export { ChatCompletionStream, ChatCompletionStreamingRunner } from './lib/chat-completion-stream.js';
export { ChatCompletionRunner, ParsingToolFunction } from './lib/chat-runner.js';
export { AbstractChatCompletionRunner } from './lib/chat-runner-base.js';
export type * from './lib/chat-types.js';
export { createEmbeddings } from './lib/embeddings.js';
export { ContentFilterFinishReasonError, LengthFinishReasonError } from './lib/errors.js';
export type { BaseEvents } from './lib/event-stream.js';
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
export type { PollOptions, UploadAndPollOptions, WaitForProcessingOptions } from './lib/polling.js';
export {
  type ResponseCreateAndStreamParams,
  type ResponseEvents,
  ResponseStream,
  type ResponseStreamByIdParams,
  type ResponseStreamOptions,
  type ResponseStreamParams,
} from './lib/response-stream.js';
export {
  makeParseableResponseTool,
  type ParsedResponse,
  type ParsedResponseFunctionToolCall,
  type ParsedResponseOutputItem,
  type ParsedResponseOutputMessage,
  type ParsedResponseOutputText,
  parseResponse,
} from './lib/responses-parser.js';
export { MAX_PART_BYTES, type UploadFileParams } from './lib/upload-file.js';
export * from './lib/webhooks.js';
export * from './resources/index.js';
export { openAISpec, openAIStreamDecoder } from './spec.js';
