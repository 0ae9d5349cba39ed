/**
 * `aiwire/openai`: the OpenAI client, its resources and types.
 */
export { type AzureClientOptions, AzureOpenAI, azureOpenAISpec } from './azure.js';
export { type ClientOptions, OpenAI } from './client.js';
export { createEmbeddings } from './lib/embeddings.js';
export * from './lib/webhooks.js';
export * from './resources/index.js';
export { openAISpec, openAIStreamDecoder } from './spec.js';
