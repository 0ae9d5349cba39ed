/**
 * `aiwire/openai`: the OpenAI client, its resources and types.
 */
export { type AzureClientOptions, AzureOpenAI, azureOpenAISpec } from './azure.js';
export { type ClientOptions, OpenAI } from './client.js';
export { createEmbeddings } from './lib/embeddings.js';
export { type UnwrapWebhookEvent, Webhooks } from './lib/webhooks.js';
export { Chat, Completions, Embeddings, Models } from './resources.js';
export { openAISpec, openAIStreamDecoder } from './spec.js';
export * from './types.js';
