/**
 * `aiwire/anthropic`: the Anthropic provider's entry point, as `@anthropic-ai/sdk`'s
 * (`import Anthropic from 'aiwire/anthropic'`). Shares core with the root entry point, so
 * `instanceof APIError` holds across them.
 */
import { Anthropic } from './providers/anthropic/index.js';

export { APIPromise, type WithResponse } from './core/api-promise.js';
export type { BaseClientOptions, EngineStats, FinalRequestOptions, RequestOptions } from './core/client.js';
export type { EndpointOptions } from './core/endpoints.js';
export * from './core/errors.js';
export { AiwireError as AnthropicError } from './core/errors.js';
export type { Logger, LogLevel } from './core/logger.js';
export type { HistogramSnapshot, MetricsSnapshot, OperationMetrics } from './core/metrics.js';
export type { ClientHooks, HookEvent, ObservabilityOptions, StreamEndEvent } from './core/observe.js';
export { IdCursorPage as Page, PagePromise } from './core/pagination/index.js';
export { PRESETS, type PresetName } from './core/presets.js';
export type { CacheOptions, CacheStats, ReuseOptions } from './core/reuse.js';
export { Stream } from './core/streaming.js';
export { type ToFileInput, toFile, type Uploadable } from './core/uploads.js';
export * from './providers/anthropic/index.js';

export default Anthropic;
