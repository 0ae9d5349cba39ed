/**
 * `aiwire/helpers/zod` (openai-node's `openai/helpers/zod`): `zodResponseFormat`, `zodTextFormat`,
 * `zodFunction`, `zodResponsesFunction`. Needs zod (an optional peer dependency: 3.25+ or 4.x).
 */
export {
  type InferZodType,
  type ZodFunctionOptions,
  type ZodTypeLike,
  zodFunction,
  zodResponseFormat,
  zodResponsesFunction,
  zodTextFormat,
} from '../providers/openai/lib/zod.js';
