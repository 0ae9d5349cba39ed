/**
 * `aiwire/replicate`: the Replicate provider's entry point, as replicate-javascript's
 * (`import Replicate from 'aiwire/replicate'`, or `require('aiwire/replicate')`). Shares core with
 * the root entry point, so `instanceof APIError` holds across them.
 */
import { Replicate } from './providers/replicate/index.js';

export { APIPromise, type WithResponse } from './core/api-promise.js';
export type { BaseClientOptions, EngineStats, RequestOptions } from './core/client.js';
export type { EndpointOptions } from './core/endpoints.js';
export * from './core/errors.js';
export type { Logger, LogLevel } from './core/logger.js';
export type { HistogramSnapshot, MetricsSnapshot, OperationMetrics } from './core/metrics.js';
export type { ClientHooks, HookEvent, ObservabilityOptions, StreamEndEvent } from './core/observe.js';
export { NextURLPage as Page, PagePromise } from './core/pagination/index.js';
export { PRESETS, type PresetName } from './core/presets.js';
export type { CacheOptions, CacheStats, ReuseOptions } from './core/reuse.js';
export { type ToFileInput, toFile, type Uploadable } from './core/uploads.js';
export * from './providers/replicate/index.js';

export default Replicate;
