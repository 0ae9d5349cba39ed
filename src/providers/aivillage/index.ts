/**
 * `aiwire/aivillage`: the AIVillage client, its resources, types and errors.
 */
export { AIVillage, type AuthScheme, type ClientOptions, DEFAULT_BASE_URL } from './client.js';
export type * as AIVillageSchemas from './generated/schemas.js';
export { type BatchChatOptions, batchChat } from './lib/batch.js';
export {
  type AIVillageErrorFields,
  AIVillageRateLimitError,
  AIVillageServerError,
  AIVillageUnprocessableEntityError,
  AIVillageValidationError,
  type FieldError,
  fieldErrorsOf,
  isValidationError,
  type ValidationDetails,
} from './lib/errors.js';
export type {
  DigitalTwinProfile,
  DigitalTwinUpdateResponse,
  ProfileUpdateParams,
} from './resources/digital-twin/profile.js';
export * from './resources/index.js';
export { aivillageErrorBody, aivillageSpec } from './spec.js';
