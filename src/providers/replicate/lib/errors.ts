/**
 * Errors of Replicate's helpers (`run`, `wait`, `stream`): a prediction that ended without output is
 * not an HTTP failure (the API answered 200), so it is not an `APIError`: it is a `ModelError` holding
 * the prediction and its logs.
 */
import { AiwireError } from '../../../core/errors.js';
import type { Prediction } from './types.js';

/**
 * A prediction failed (status `failed`), or its stream sent an `error` event. `prediction` is the
 * prediction as last seen (for a stream: as created, with `status: 'failed'`, `error` and the logs
 * streamed so far filled in); `logs` its log text.
 */
export class ModelError extends AiwireError {
  /** The prediction, as last seen. */
  readonly prediction: Prediction;
  /** The prediction's log output (`prediction.logs`), if any. */
  readonly logs: string | undefined;
  /** The prediction's `error` (or the stream's `error` event data, parsed when JSON). */
  readonly error: unknown;

  /**
   * @param message what happened.
   * @param prediction the prediction as last seen.
   * @param error the error the API reported (default `prediction.error`).
   */
  constructor(message: string, prediction: Prediction, error: unknown = prediction.error) {
    super(message);
    this.name = new.target.name;
    this.prediction = prediction;
    this.logs = prediction.logs ?? undefined;
    this.error = error;
  }
}

/** A prediction was canceled (by someone else, or by its deadline) or aborted before it ran. */
export class PredictionCanceledError extends ModelError {}
