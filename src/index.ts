/**
 * aiwire: a Node.js client for AI model APIs whose HTTP, SSE and retry engine is Rust.
 *
 * `import { OpenAI } from 'aiwire'` (or `import OpenAI from 'aiwire'`, or in CommonJS
 * `const OpenAI = require('aiwire')`) works as openai-node's does. Each provider also has its own
 * entry point (`aiwire/openai`); all share one copy of core, so `instanceof APIError` holds across them.
 */
import { OpenAI } from './providers/openai/index.js';

export { APIPromise, type WithResponse } from './core/api-promise.js';
export type { BaseClientOptions, EngineStats, FinalRequestOptions, RequestOptions } from './core/client.js';
export type { EndpointOptions } from './core/endpoints.js';
export * from './core/errors.js';
export { AiwireError as OpenAIError } from './core/errors.js';
export type { Logger, LogLevel } from './core/logger.js';
export type { HistogramSnapshot, MetricsSnapshot, OperationMetrics } from './core/metrics.js';
export type { ClientHooks, HookEvent, ObservabilityOptions, StreamEndEvent } from './core/observe.js';
export type { AdaptiveBudget, EndpointRateLimitStats, RateLimitStats } from './core/options.js';
export * from './core/pagination/index.js';
export { PRESETS, type PresetName } from './core/presets.js';
export type { ProviderErrorBody, ProviderSpec } from './core/provider.js';
export { APIResource } from './core/resource.js';
export type { CacheOptions, CacheStats, ReuseOptions } from './core/reuse.js';
export { Stream } from './core/streaming.js';
export { isUploadable, type ToFileInput, toFile, type Uploadable } from './core/uploads.js';
export {
  signStandardWebhook,
  type VerifyWebhookOptions,
  verifyStandardWebhook,
  type WebhookHeaders,
} from './core/webhooks.js';
export * from './providers/openai/index.js';

export default OpenAI;
