/**
 * `new WebhookHandler(secret)`: verify and dispatch Codegen webhook deliveries (the seed's
 * `WebhookHandler`: `on(event, fn)`, `handleRequest(body, headers)`).
 *
 * Codegen publishes no webhook signature scheme, so aiwire uses Standard Webhooks
 * (https://www.standardwebhooks.com), as OpenAI and Replicate do: headers `webhook-id`,
 * `webhook-timestamp` (Unix seconds, within `toleranceSeconds` of now) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), keyed by the secret (`whsec_<base64>`, or raw
 * text), compared in constant time (core's `verifyStandardWebhook`). Senders sign with
 * `signStandardWebhook` (exported beside it). The body is a JSON event `{ type, data, timestamp? }`.
 */
import { AiwireError } from '../../../core/errors.js';
import {
  headerValue,
  payloadText,
  verifyStandardWebhook,
  type WebhookHeaders,
} from '../../../core/webhooks.js';
import type { AgentRun } from '../resources/agent-runs.js';

/** An agent run event's data: the run (`AgentRunResponse`), plus `error` text on failures. */
export type AgentRunEventData = AgentRun & { error?: string | null | undefined };

/** The events aiwire types (any other `type` is dispatched too, with `unknown` data). */
export interface CodegenWebhookEventMap {
  'agent_run.created': AgentRunEventData;
  'agent_run.started': AgentRunEventData;
  'agent_run.completed': AgentRunEventData;
  'agent_run.failed': AgentRunEventData;
  'agent_run.cancelled': AgentRunEventData;
}

/** A webhook event as delivered: its `type`, its `data`, and its `timestamp` when the sender sets one. */
export interface CodegenWebhookEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
  timestamp?: string | undefined;
  /** The delivery's `webhook-id` header (one per event; use it to drop redeliveries). */
  webhookId: string;
}

/** The event type of a known event name, else a generic event. */
export type EventOf<K extends string> = K extends keyof CodegenWebhookEventMap
  ? CodegenWebhookEvent<K, CodegenWebhookEventMap[K]>
  : CodegenWebhookEvent;

/** A handler: may be async (`handleRequest` waits for it). */
export type WebhookListener<E> = (event: E) => void | Promise<void>;

/** Options of `new WebhookHandler(secret, options)`. */
export interface WebhookHandlerOptions {
  /** Largest allowed distance between `webhook-timestamp` and now, in seconds. Default 300. */
  toleranceSeconds?: number | undefined;
}

/** What `handleRequest` resolves to. */
export interface WebhookHandleResult {
  /** The verified event. */
  event: CodegenWebhookEvent;
  /** Handlers that ran (for its type, then `*`). */
  handled: number;
}

/**
 * Verifies Codegen webhook deliveries (Standard Webhooks) and dispatches them by event `type` to the
 * handlers registered with `on` (and to `*` handlers).
 */
export class WebhookHandler {
  readonly #secret: string;
  readonly #tolerance: number | undefined;
  readonly #handlers = new Map<string, WebhookListener<CodegenWebhookEvent>[]>();

  /**
   * @param secret the endpoint's signing secret, `whsec_<base64>` or raw text.
   * @throws AiwireError when `secret` is empty.
   */
  constructor(secret: string, options: WebhookHandlerOptions = {}) {
    if (!secret || typeof secret !== 'string') {
      throw new AiwireError(
        'WebhookHandler needs the endpoint secret: new WebhookHandler(process.env.CODEGEN_WEBHOOK_SECRET), e.g. whsec_<base64>.',
      );
    }
    this.#secret = secret;
    this.#tolerance = options.toleranceSeconds;
  }

  /** Handle events of `type` (`'*'`: every event). Returns the handler, for chaining. */
  on<K extends keyof CodegenWebhookEventMap | (string & {})>(type: K, fn: WebhookListener<EventOf<K>>): this {
    const list = this.#handlers.get(type) ?? [];
    list.push(fn as WebhookListener<CodegenWebhookEvent>);
    this.#handlers.set(type, list);
    return this;
  }

  /** Remove a handler added with `on`. */
  off(type: string, fn: WebhookListener<never>): this {
    const list = this.#handlers.get(type);
    const i = list?.indexOf(fn as WebhookListener<CodegenWebhookEvent>) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
    return this;
  }

  /**
   * Verify the delivery, parse the event, run its handlers (those of its `type`, then `*`, one after
   * the other, each awaited) and resolve to the event and the number of handlers run.
   * @param body the raw body, exactly as received (string or bytes).
   * @param headers the request's headers (Node's `req.headers`, a `Headers`, or pairs).
   * @throws InvalidWebhookSignatureError for missing headers, a timestamp outside the tolerance or a
   *   signature that does not match; AiwireError for a body that is not a JSON event with a `type`;
   *   whatever a handler throws (later handlers do not run).
   */
  async handleRequest(body: string | Uint8Array, headers: WebhookHeaders): Promise<WebhookHandleResult> {
    const event = this.verify(body, headers);
    const list = [...(this.#handlers.get(event.type) ?? []), ...(this.#handlers.get('*') ?? [])];
    for (const fn of list) await fn(event);
    return { event, handled: list.length };
  }

  /**
   * Verify and parse a delivery without dispatching it.
   * @throws the errors of `handleRequest` other than the handlers'.
   */
  verify(body: string | Uint8Array, headers: WebhookHeaders): CodegenWebhookEvent {
    verifyStandardWebhook({
      payload: body,
      headers,
      secret: this.#secret,
      toleranceSeconds: this.#tolerance,
    });
    const text = payloadText(body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AiwireError(`The webhook body is not JSON (signature valid): ${text.slice(0, 80)}`);
    }
    const p = parsed as { type?: unknown; data?: unknown; timestamp?: unknown };
    if (!p || typeof p !== 'object' || typeof p.type !== 'string' || !p.type) {
      throw new AiwireError('The webhook body has no event `type` (expected { type, data }).');
    }
    return {
      type: p.type,
      data: p.data,
      ...(typeof p.timestamp === 'string' ? { timestamp: p.timestamp } : {}),
      webhookId: headerValue(headers, 'webhook-id') ?? '',
    };
  }
}
