/**
 * Replicate webhook verification, as replicate-javascript's `validateWebhook`: Replicate signs its
 * webhooks the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature` with one
 * or more space-separated `v1,<base64 HMAC-SHA256>` over `"<id>.<timestamp>.<body>"`, keyed by the
 * base64 part of the `whsec_…` secret from `webhooks.default.secret.get()`).
 *
 * Checked by core's `verifyStandardWebhook`: constant-time comparison, every `v1,` signature tried,
 * and the timestamp within `toleranceSec` (default 300 s) of now, which replicate-javascript does not
 * check (a captured webhook could be replayed forever there).
 */
import { AiwireError, InvalidWebhookSignatureError } from '../../../core/errors.js';
import { headerValue, verifyStandardWebhook, type WebhookHeaders } from '../../../core/webhooks.js';

/** The parts of a webhook, taken from its request (replicate-javascript's first form). */
export interface WebhookParts {
  /** The `webhook-id` header. */
  id: string;
  /** The `webhook-timestamp` header (Unix seconds). */
  timestamp: string;
  /** The `webhook-signature` header (one or more space-separated `v1,<base64>`). */
  signature: string;
  /** The raw body, exactly as received. */
  body: WebhookBody;
  /** The secret, when not passed as the second argument (replicate-javascript's first form). */
  secret?: string | undefined;
}

/** A webhook's body: text, bytes, a stream of bytes, or (replicate-javascript) an object re-serialised. */
export type WebhookBody = string | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array> | object;

/** A webhook as headers plus raw body (e.g. Express's `req.headers` and a raw body). */
export interface WebhookRequestLike {
  headers: WebhookHeaders;
  body: WebhookBody;
}

/** Options of {@link validateWebhook} / {@link verifyWebhook}. */
export interface ValidateWebhookOptions {
  /** Largest allowed distance between `webhook-timestamp` and now, in seconds. Default 300. */
  toleranceSec?: number | undefined;
  /** The current time in ms (tests). Default `Date.now()`. */
  now?: number | undefined;
}

async function bodyText(body: WebhookBody | null | undefined): Promise<string> {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (body instanceof ArrayBuffer) return Buffer.from(body).toString('utf8');
  if (body instanceof ReadableStream) return new Response(body).text();
  if (body && typeof body === 'object') {
    // replicate-javascript re-serialises a parsed body; it verifies only when key order and spacing
    // match what was signed. Prefer the raw body.
    return JSON.stringify(body);
  }
  throw new InvalidWebhookSignatureError('Missing required webhook body');
}

/** Replicate's secrets are `whsec_<base64>`; a bare base64 secret is read the same way. */
function normaliseSecret(secret: string): string {
  return secret.startsWith('whsec_') ? secret : `whsec_${secret}`;
}

async function parts(
  request: Request | WebhookParts | WebhookRequestLike,
  secretArg: string | undefined,
): Promise<{ headers: [string, string][]; payload: string; secret: string | undefined }> {
  if (typeof Request !== 'undefined' && request instanceof Request) {
    const payload = await request.clone().text();
    const headers: [string, string][] = [];
    request.headers.forEach((value, name) => {
      headers.push([name, value]);
    });
    return { headers, payload, secret: secretArg };
  }
  if (request && 'headers' in request && request.headers) {
    const h = request.headers;
    const headers: [string, string][] = [];
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const value = headerValue(h, name);
      if (value !== undefined) headers.push([name, value]);
    }
    return { headers, payload: await bodyText(request.body), secret: secretArg };
  }
  const p = request as WebhookParts;
  const headers: [string, string][] = [];
  if (p?.id) headers.push(['webhook-id', p.id]);
  if (p?.timestamp) headers.push(['webhook-timestamp', String(p.timestamp)]);
  if (p?.signature) headers.push(['webhook-signature', p.signature]);
  return { headers, payload: await bodyText(p?.body), secret: secretArg ?? p?.secret };
}

/**
 * Verify a Replicate webhook; resolves when it is authentic and recent.
 *
 * @param request a WHATWG `Request` (its body is read from a clone), `{ headers, body }`, or
 *   `{ id, timestamp, signature, body, secret? }`.
 * @param secret the `whsec_…` secret (optional when `request.secret` holds it).
 * @throws AiwireError when no secret is given; InvalidWebhookSignatureError for missing headers or
 *   body, a timestamp outside the tolerance, or no matching signature (the message says which).
 */
export async function verifyWebhook(
  request: Request | WebhookParts | WebhookRequestLike,
  secret?: string,
  options: ValidateWebhookOptions = {},
): Promise<void> {
  const p = await parts(request, secret);
  if (!p.secret) {
    throw new AiwireError(
      'A webhook secret is required: pass the whsec_… secret from replicate.webhooks.default.secret.get().',
    );
  }
  if (!p.payload) throw new InvalidWebhookSignatureError('Missing required webhook body');
  verifyStandardWebhook({
    payload: p.payload,
    headers: p.headers,
    secret: normaliseSecret(p.secret),
    toleranceSeconds: options.toleranceSec,
    now: options.now,
  });
}

/**
 * Whether a Replicate webhook is authentic and recent, as replicate-javascript's `validateWebhook`
 * (resolves to true / false). As there, a missing secret, header or body is an error, not `false`.
 *
 * @param request see {@link verifyWebhook}.
 * @param secret the `whsec_…` secret (optional when `request.secret` holds it).
 * @returns false when no signature matches or the timestamp is outside `toleranceSec` (default 300 s).
 * @throws AiwireError when no secret is given; InvalidWebhookSignatureError for missing headers or body.
 */
export async function validateWebhook(
  request: Request | WebhookParts | WebhookRequestLike,
  secret?: string,
  options: ValidateWebhookOptions = {},
): Promise<boolean> {
  try {
    await verifyWebhook(request, secret, options);
    return true;
  } catch (e) {
    if (e instanceof InvalidWebhookSignatureError && !/^Missing required/.test(e.message)) return false;
    throw e;
  }
}
