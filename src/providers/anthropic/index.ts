/**
 * `aiwire/anthropic`: the Anthropic client, its resources and types.
 */
export { Anthropic, type ClientOptions } from './client.js';
export { JSONLDecodeError, JSONLDecoder } from './lib/batch-results.js';
export { BetaMessageStream, MessageStream, type MessageStreamEvents } from './lib/message-stream.js';
export * from './resources/index.js';
export { anthropicErrorBody, anthropicSpec, anthropicStreamDecoder, ERROR_STATUS } from './spec.js';
