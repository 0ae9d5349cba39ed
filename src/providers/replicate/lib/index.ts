/**
 * Replicate's hand-written helpers (wired on the client as `replicate.run/stream/wait/validateWebhook`).
 */
export { ModelError, PredictionCanceledError } from './errors.js';
export { FileOutput, type FileOutputOptions, isFileURL, transformOutput } from './file-output.js';
export {
  DEFAULT_MAX_DATA_URI_BYTES,
  type FileInputOptions,
  MAX_UPLOAD_BYTES,
  transformFileInputs,
  uploadFile,
} from './files.js';
export { isReplicateHost, replicateForeignOrigin } from './origins.js';
export {
  type CreatePredictionParams,
  cancelPrediction,
  createPrediction,
  type ModelRef,
  type Progress,
  parseProgressFromLogs,
  parseRef,
  preferHeader,
  type RunOptions,
  run,
  uploadInputs,
  type WaitOption,
  type WaitOptions,
  wait,
} from './run.js';
export {
  ServerSentEvent,
  type StreamOptions,
  type StreamPredictionOptions,
  stream,
  streamPrediction,
} from './stream.js';
export type {
  FileEncodingStrategy,
  FileObject,
  Prediction,
  ReplicateClient,
  TerminalStatus,
} from './types.js';
export { isTerminal } from './types.js';
export {
  type ValidateWebhookOptions,
  validateWebhook,
  verifyWebhook,
  type WebhookBody,
  type WebhookParts,
  type WebhookRequestLike,
} from './webhooks.js';
