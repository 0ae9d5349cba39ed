/**
 * aiwire: a Node.js client for AI model APIs whose HTTP, SSE and retry engine is Rust.
 *
 * `import { OpenAI } from 'aiwire'` (or `import OpenAI from 'aiwire'`) works as openai-node's does.
 */
import { OpenAI } from './providers/openai/index.js';

export { APIPromise, type WithResponse } from './core/api-promise.js';
export type { BaseClientOptions, EngineStats, RequestOptions } from './core/client.js';
export * from './core/errors.js';
export { AiwireError as OpenAIError } from './core/errors.js';
export type { Logger, LogLevel } from './core/logger.js';
export { Page, PagePromise } from './core/pagination.js';
export { Stream } from './core/streaming.js';
export * from './providers/openai/index.js';

export default OpenAI;
