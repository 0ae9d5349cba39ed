/**
 * `aiwire/openai`: the OpenAI provider's entry point (the same classes as the root entry point,
 * sharing its copy of core).
 */
import { OpenAI } from './providers/openai/index.js';

export * from './index.js';
export default OpenAI;
