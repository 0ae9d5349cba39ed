/**
 * `client.webhooks`: verify and parse OpenAI webhook deliveries (Standard Webhooks signatures), as
 * openai-node's `webhooks.unwrap()` / `verifySignature()`.
 * Reference: https://platform.openai.com/docs/guides/webhooks
 */
import { APIResource } from '../../../core/resource.js';
import { verifyStandardWebhook, type WebhookHeaders } from '../../../core/webhooks.js';

/** A webhook event as OpenAI sends it (`type` such as `response.completed`, `batch.completed`, …). */
export interface UnwrapWebhookEvent {
  /** Event id (`evt_…`). */
  id: string;
  /** Unix seconds when the event was created. */
  created_at: number;
  /** Event type, e.g. `response.completed`. */
  type: string;
  /** The object the event is about, e.g. `{ id: 'resp_…' }`. */
  data: Record<string, unknown>;
  /** Always `event`. */
  object?: 'event';
}

/** Verify and parse webhook deliveries. */
export class Webhooks extends APIResource {
  /**
   * Verify the signature of a delivery, then parse its body.
   *
   * @param payload the raw body as received (string or Buffer).
   * @param headers the delivery's headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
   * @param secret the endpoint secret; default the client's `webhookSecret` (OPENAI_WEBHOOK_SECRET).
   * @param tolerance largest accepted age (and clock skew) of the timestamp, in seconds; default 300.
   * @throws InvalidWebhookSignatureError when the signature or timestamp does not verify;
   *   AiwireError when no secret is configured; SyntaxError when a verified body is not JSON.
   */
  unwrap(
    payload: string | Buffer,
    headers: WebhookHeaders,
    secret: string | null | undefined = this.#secret(),
    tolerance = 300,
  ): UnwrapWebhookEvent {
    this.verifySignature(payload, headers, secret, tolerance);
    return JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) as UnwrapWebhookEvent;
  }

  /**
   * Verify a delivery's signature (constant-time comparison, `tolerance` seconds, default 300).
   * @throws InvalidWebhookSignatureError when it does not verify; AiwireError when no secret is set.
   */
  verifySignature(
    payload: string | Buffer,
    headers: WebhookHeaders,
    secret: string | null | undefined = this.#secret(),
    tolerance = 300,
  ): void {
    verifyStandardWebhook({ payload, headers, secret: secret ?? '', toleranceSeconds: tolerance });
  }

  #secret(): string | null {
    return (this._client as unknown as { webhookSecret?: string | null }).webhookSecret ?? null;
  }
}
