/**
 * `aiwire/codegen`: the Codegen client, its resources, helpers and types.
 */
export { type ClientOptions, Codegen } from './client.js';
export * from './lib/index.js';
export * from './resources/index.js';
export { codegenErrorBody, codegenSpec } from './spec.js';
