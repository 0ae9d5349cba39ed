/**
 * `aiwire/replicate`: the Replicate client, its resources and types.
 */
export { type ClientOptions, Replicate } from './client.js';
export {
  cancelPrediction,
  createPrediction,
  DEFAULT_MAX_DATA_URI_BYTES,
  type FileEncodingStrategy,
  type FileInputOptions,
  FileOutput,
  type FileOutputOptions,
  isFileURL,
  MAX_UPLOAD_BYTES,
  ModelError,
  type ModelRef,
  PredictionCanceledError,
  type Progress,
  parseProgressFromLogs,
  type RunOptions,
  ServerSentEvent,
  type StreamOptions,
  transformFileInputs,
  uploadFile,
  type ValidateWebhookOptions,
  validateWebhook,
  verifyWebhook,
  type WaitOptions,
} from './lib/index.js';
export * from './resources/index.js';
export { replicateErrorBody, replicateSpec } from './spec.js';
