/**
 * `aiwire/codegen`: the Codegen provider's entry point (`import Codegen from 'aiwire/codegen'`, or
 * `require('aiwire/codegen')`). Shares core with the root entry point, so `instanceof APIError` holds
 * across them.
 */
import { Codegen } from './providers/codegen/index.js';

export { APIPromise, type WithResponse } from './core/api-promise.js';
export type { BaseClientOptions, EngineStats, RequestOptions } from './core/client.js';
export * from './core/errors.js';
export type { Logger, LogLevel } from './core/logger.js';
export type { HistogramSnapshot, MetricsSnapshot, OperationMetrics } from './core/metrics.js';
export type { ClientHooks, HookEvent, ObservabilityOptions, StreamEndEvent } from './core/observe.js';
export { OffsetPage, OffsetPage as Page, PagePromise } from './core/pagination/index.js';
export { PRESETS, type PresetName } from './core/presets.js';
export type { CacheOptions, CacheStats, ReuseOptions } from './core/reuse.js';
export { signStandardWebhook, verifyStandardWebhook, type WebhookHeaders } from './core/webhooks.js';
export * from './providers/codegen/index.js';

export default Codegen;
