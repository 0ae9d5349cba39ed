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
export { createEmbeddings } from './lib/embeddings.js';
export type { BaseEvents } from './lib/event-stream.js';
export type { PollOptions, UploadAndPollOptions, WaitForProcessingOptions } from './lib/polling.js';
export {
  type ResponseCreateAndStreamParams,
  type ResponseEvents,
  ResponseStream,
  type ResponseStreamByIdParams,
  type ResponseStreamOptions,
  type ResponseStreamParams,
} from './lib/response-stream.js';
export { MAX_PART_BYTES, type UploadFileParams } from './lib/upload-file.js';
export * from './lib/webhooks.js';
export * from './resources/index.js';
export { openAISpec, openAIStreamDecoder } from './spec.js';
