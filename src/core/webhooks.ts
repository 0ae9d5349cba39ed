/**
 * Standard Webhooks signature verification (https://www.standardwebhooks.com), used by OpenAI's
 * webhooks and, for want of a published scheme, Codegen's: headers `webhook-id`, `webhook-timestamp`
 * (Unix seconds) and `webhook-signature` (space-separated `v1,<base64 HMAC-SHA256>` entries) over
 * `"<id>.<timestamp>.<payload>"`, keyed by the secret (`whsec_<base64>`, or raw text).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AiwireError, InvalidWebhookSignatureError } from './errors.js';

/** Headers as a WHATWG `Headers`, a record (Node's `req.headers`), or pairs. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined> | [string, string][];

/** Options of {@link verifyStandardWebhook}. */
export interface VerifyWebhookOptions {
  /**
   * The raw request body, exactly as received (a parsed-and-restringified body will not verify): a
   * string, or its bytes (a `Buffer` or any `Uint8Array`).
   */
  payload: string | Uint8Array;
  /** The request's headers. */
  headers: WebhookHeaders;
  /** The endpoint's secret: `whsec_<base64>` (base64-decoded) or any other text (its UTF-8 bytes). */
  secret: string;
  /** Largest allowed distance between `webhook-timestamp` and now, in seconds. Default 300. */
  toleranceSeconds?: number | undefined;
  /** The current time in ms (tests). Default `Date.now()`. */
  now?: number | undefined;
}

/** One header's value, case-insensitively. */
export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  if (Array.isArray(headers)) return headers.find(([k]) => k.toLowerCase() === lower)?.[1];
  for (const key in headers) {
    if (key.toLowerCase() !== lower) continue;
    const value = headers[key];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  return undefined;
}

/** A payload as text: a string as is, bytes (a Buffer or any Uint8Array) decoded as UTF-8 like `Buffer#toString`. */
export function payloadText(payload: string | Uint8Array): string {
  return typeof payload === 'string'
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
}

/** The HMAC key of a secret: `whsec_` + base64 is decoded, anything else is used as UTF-8 text. */
function secretKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret);
}

/**
 * Verify a Standard Webhooks signature; returns normally when one `v1` signature matches (compared
 * in constant time) and the timestamp is within the tolerance.
 *
 * @throws AiwireError when `secret` is empty (configure the endpoint's secret).
 * @throws InvalidWebhookSignatureError for missing headers, a stale or future timestamp, or no
 *   matching signature; the message says which.
 */
export function verifyStandardWebhook(options: VerifyWebhookOptions): void {
  const { payload, headers, secret } = options;
  if (!secret) {
    throw new AiwireError(
      'A webhook secret is required: pass it, or set the client option webhookSecret (OPENAI_WEBHOOK_SECRET).',
    );
  }
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signatures = headerValue(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    const missing = [
      !id && 'webhook-id',
      !timestamp && 'webhook-timestamp',
      !signatures && 'webhook-signature',
    ]
      .filter(Boolean)
      .join(', ');
    throw new InvalidWebhookSignatureError(`Missing required webhook header(s): ${missing}`);
  }
  const seconds = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(seconds)) {
    throw new InvalidWebhookSignatureError(`Invalid webhook-timestamp header: ${JSON.stringify(timestamp)}`);
  }
  const tolerance = options.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (nowSeconds - seconds > tolerance) {
    throw new InvalidWebhookSignatureError(
      `Webhook timestamp is too old (${nowSeconds - seconds} s > ${tolerance} s)`,
    );
  }
  if (seconds - nowSeconds > tolerance) {
    throw new InvalidWebhookSignatureError(
      `Webhook timestamp is too new (${seconds - nowSeconds} s in the future)`,
    );
  }
  const body = payloadText(payload);
  const expected = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest();
  for (const entry of signatures.split(' ')) {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || !signature) continue;
    const given = Buffer.from(signature, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  }
  throw new InvalidWebhookSignatureError('The given webhook signature does not match the expected signature');
}

/**
 * A Standard Webhooks signature header value for `payload` (for tests and for senders):
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.payload">`.
 */
export function signStandardWebhook(
  payload: string,
  id: string,
  timestampSeconds: number,
  secret: string,
): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSeconds}.${payload}`);
  return `v1,${mac.digest('base64')}`;
}
