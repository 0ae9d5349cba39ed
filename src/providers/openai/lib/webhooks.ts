/**
 * `client.webhooks`: verify and parse OpenAI webhook deliveries (Standard Webhooks signatures), as
 * openai-node's `webhooks.unwrap()` / `verifySignature()`.
 * Reference: https://platform.openai.com/docs/guides/webhooks
 */
import { APIResource } from '../../../core/resource.js';
import { payloadText, verifyStandardWebhook, type WebhookHeaders } from '../../../core/webhooks.js';
import type * as S from '../generated/schemas.js';

/**
 * A webhook event as OpenAI sends it: one of the spec's `Webhook*` event schemas, told apart by
 * `type` (`response.completed`, `batch.completed`, `fine_tuning.job.succeeded`, …).
 * Reference: https://platform.openai.com/docs/api-reference/webhook-events
 */
export type UnwrapWebhookEvent =
  | S.WebhookBatchCancelled
  | S.WebhookBatchCompleted
  | S.WebhookBatchExpired
  | S.WebhookBatchFailed
  | S.WebhookEvalRunCanceled
  | S.WebhookEvalRunFailed
  | S.WebhookEvalRunSucceeded
  | S.WebhookFineTuningJobCancelled
  | S.WebhookFineTuningJobFailed
  | S.WebhookFineTuningJobSucceeded
  | S.WebhookLiveCallIncoming
  | S.WebhookRealtimeCallIncoming
  | S.WebhookResponseCancelled
  | S.WebhookResponseCompleted
  | S.WebhookResponseFailed
  | S.WebhookResponseIncomplete;

/** The `BatchCancelled` webhook event (spec schema `WebhookBatchCancelled`). */
export type BatchCancelledWebhookEvent = S.WebhookBatchCancelled;
/** The `BatchCompleted` webhook event (spec schema `WebhookBatchCompleted`). */
export type BatchCompletedWebhookEvent = S.WebhookBatchCompleted;
/** The `BatchExpired` webhook event (spec schema `WebhookBatchExpired`). */
export type BatchExpiredWebhookEvent = S.WebhookBatchExpired;
/** The `BatchFailed` webhook event (spec schema `WebhookBatchFailed`). */
export type BatchFailedWebhookEvent = S.WebhookBatchFailed;
/** The `EvalRunCanceled` webhook event (spec schema `WebhookEvalRunCanceled`). */
export type EvalRunCanceledWebhookEvent = S.WebhookEvalRunCanceled;
/** The `EvalRunFailed` webhook event (spec schema `WebhookEvalRunFailed`). */
export type EvalRunFailedWebhookEvent = S.WebhookEvalRunFailed;
/** The `EvalRunSucceeded` webhook event (spec schema `WebhookEvalRunSucceeded`). */
export type EvalRunSucceededWebhookEvent = S.WebhookEvalRunSucceeded;
/** The `FineTuningJobCancelled` webhook event (spec schema `WebhookFineTuningJobCancelled`). */
export type FineTuningJobCancelledWebhookEvent = S.WebhookFineTuningJobCancelled;
/** The `FineTuningJobFailed` webhook event (spec schema `WebhookFineTuningJobFailed`). */
export type FineTuningJobFailedWebhookEvent = S.WebhookFineTuningJobFailed;
/** The `FineTuningJobSucceeded` webhook event (spec schema `WebhookFineTuningJobSucceeded`). */
export type FineTuningJobSucceededWebhookEvent = S.WebhookFineTuningJobSucceeded;
/** The `LiveCallIncoming` webhook event (spec schema `WebhookLiveCallIncoming`). */
export type LiveCallIncomingWebhookEvent = S.WebhookLiveCallIncoming;
/** The `RealtimeCallIncoming` webhook event (spec schema `WebhookRealtimeCallIncoming`). */
export type RealtimeCallIncomingWebhookEvent = S.WebhookRealtimeCallIncoming;
/** The `ResponseCancelled` webhook event (spec schema `WebhookResponseCancelled`). */
export type ResponseCancelledWebhookEvent = S.WebhookResponseCancelled;
/** The `ResponseCompleted` webhook event (spec schema `WebhookResponseCompleted`). */
export type ResponseCompletedWebhookEvent = S.WebhookResponseCompleted;
/** The `ResponseFailed` webhook event (spec schema `WebhookResponseFailed`). */
export type ResponseFailedWebhookEvent = S.WebhookResponseFailed;
/** The `ResponseIncomplete` webhook event (spec schema `WebhookResponseIncomplete`). */
export type ResponseIncompleteWebhookEvent = S.WebhookResponseIncomplete;

/** Verify and parse webhook deliveries. */
export class Webhooks extends APIResource {
  /**
   * Verify the signature of a delivery, then parse its body (async, as openai-node's).
   *
   * @param payload the raw body as received (a string, or its bytes: a Buffer or any Uint8Array).
   * @param headers the delivery's headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
   * @param secret the endpoint secret; default the client's `webhookSecret` (OPENAI_WEBHOOK_SECRET).
   * @param tolerance largest accepted age (and clock skew) of the timestamp, in seconds; default 300.
   * @throws (rejects with) InvalidWebhookSignatureError when the signature or timestamp does not verify;
   *   AiwireError when no secret is configured; SyntaxError when a verified body is not JSON.
   */
  async unwrap(
    payload: string | Uint8Array,
    headers: WebhookHeaders,
    secret: string | null | undefined = this.#secret(),
    tolerance = 300,
  ): Promise<UnwrapWebhookEvent> {
    await this.verifySignature(payload, headers, secret, tolerance);
    return JSON.parse(payloadText(payload)) as UnwrapWebhookEvent;
  }

  /**
   * Verify a delivery's signature (constant-time comparison, `tolerance` seconds, default 300).
   * @throws (rejects with) InvalidWebhookSignatureError when it does not verify; AiwireError when no secret is set.
   */
  async verifySignature(
    payload: string | Uint8Array,
    headers: WebhookHeaders,
    secret: string | null | undefined = this.#secret(),
    tolerance = 300,
  ): Promise<void> {
    verifyStandardWebhook({ payload, headers, secret: secret ?? '', toleranceSeconds: tolerance });
  }

  #secret(): string | null {
    return (this._client as unknown as { webhookSecret?: string | null }).webhookSecret ?? null;
  }
}
