/**
 * The Replicate objects the helpers read and return (from the generated spec types), and the
 * client surface they need.
 */
import type { BaseClient } from '../../../core/client.js';
import type { schemas_file_response, schemas_prediction_response } from '../generated/schemas.js';

/** A prediction, as `POST /predictions` and `GET /predictions/{id}` return it. */
export type Prediction = schemas_prediction_response;

/** An uploaded file, as `POST /files` returns it. */
export type FileObject = schemas_file_response;

/** The status of a prediction that will not change any more. */
export type TerminalStatus = 'succeeded' | 'failed' | 'canceled' | 'aborted';

/** How files in a prediction's input are sent: see `transformFileInputs` in files.ts. */
export type FileEncodingStrategy = 'default' | 'upload' | 'data-uri';

/**
 * The client the helpers take: any aiwire client on Replicate's spec, with the two replicate-js
 * options read when present (`useFileOutput`, default true; `fileEncodingStrategy`, default
 * `'default'`).
 */
export type ReplicateClient = BaseClient & {
  readonly useFileOutput?: boolean | undefined;
  readonly fileEncodingStrategy?: FileEncodingStrategy | undefined;
};

/** Whether a status is final. */
export function isTerminal(status: string | undefined): status is TerminalStatus {
  return status === 'succeeded' || status === 'failed' || status === 'canceled' || status === 'aborted';
}
