/**
 * `aiwire/aivillage`: the AIVillage provider's entry point (`import AIVillage from 'aiwire/aivillage'`,
 * or `require('aiwire/aivillage')`). Shares core with the root entry point, so `instanceof APIError`
 * holds across them.
 */
import { AIVillage } from './providers/aivillage/index.js';

export { APIPromise, type WithResponse } from './core/api-promise.js';
export type { BaseClientOptions, EngineStats, RequestOptions } from './core/client.js';
export * from './core/errors.js';
export type { Logger, LogLevel } from './core/logger.js';
export type { HistogramSnapshot, MetricsSnapshot, OperationMetrics } from './core/metrics.js';
export type { ClientHooks, HookEvent, ObservabilityOptions, StreamEndEvent } from './core/observe.js';
export { PRESETS, type PresetName } from './core/presets.js';
export type { CacheOptions, CacheStats, ReuseOptions } from './core/reuse.js';
export * from './providers/aivillage/index.js';

export default AIVillage;
