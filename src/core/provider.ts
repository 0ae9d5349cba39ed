/**
 * A provider described once: everything provider-specific the provider-neutral client base needs.
 * Each provider's `client.ts` declares one `ProviderSpec` (OpenAI, Azure OpenAI, Anthropic, …); core
 * never branches on a provider's name.
 */
import type { APIError } from './errors.js';
import type { QueryArrayFormat } from './request.js';
import type { StreamDecoder } from './streaming.js';

/** What an error response body says, as a provider reads its own error envelope. */
export interface ProviderErrorBody {
  /**
   * The error object users branch on, stored as `APIError.error`: OpenAI's `body.error`, Anthropic's
   * `body.error` (inside `{ type: 'error', error }`), Replicate's whole problem+json body.
   */
  error: object | undefined;
  /** The human-readable message, when the body has one (otherwise the error is shown as JSON). */
  message?: string | undefined;
  /**
   * `APIError.type`, when the envelope keeps it elsewhere than `error.type` (Anthropic:
   * `body.error.type`, e.g. `rate_limit_error`). Default: `error.type`.
   */
  type?: string | undefined;
}

/** One provider's wire conventions. */
export interface ProviderSpec {
  /** The provider's display name, e.g. `OpenAI` (used in messages). */
  readonly name: string;
  /**
   * The provider as OpenTelemetry's GenAI conventions name it (`gen_ai.provider.name`), also the
   * `provider` of metrics: e.g. `openai`, `azure.ai.openai`. Default: `name` in lower case.
   */
  readonly telemetryName?: string | undefined;
  /**
   * The provider's log-level variable (e.g. `OPENAI_LOG`), read after `AIWIRE_LOG` when no
   * `logLevel` option is given.
   */
  readonly logEnvVariable?: string | undefined;
  /**
   * Response headers that carry the request id, lower case, in order of preference
   * (OpenAI `x-request-id`, Anthropic `request-id`). Default `['x-request-id', 'request-id']`.
   */
  readonly requestIdHeaders?: readonly string[] | undefined;
  /**
   * Turn a parsed JSON error body into the error object and message. Default: the body itself, and
   * its `message` field if it is a string.
   */
  errorBody?(body: object, status: number): ProviderErrorBody;
  /**
   * The error of an HTTP error status, when the provider has error classes of its own (AIVillage's
   * validation error with field details); `read` is what `errorBody` made of a JSON body (for another
   * body: `error` undefined, `message` the text). Return a subclass of the class `APIError.generate`
   * picks for that status (so `instanceof RateLimitError` keeps holding), or undefined for that class.
   */
  statusError?(status: number, read: ProviderErrorBody, headers: Headers): APIError | undefined;
  /** How arrays in query strings are written (`brackets` `a[]=1&a[]=2`, default; `repeat`; `comma`). */
  readonly queryArrayFormat?: QueryArrayFormat | undefined;
  /**
   * How the provider's server-sent events become stream items (`stream: true` requests).
   * See `StreamDecoder` in `streaming.ts`.
   */
  readonly streamDecoder: StreamDecoder<unknown>;
}

/** Request-id headers used when a spec names none. */
export const DEFAULT_REQUEST_ID_HEADERS: readonly string[] = ['x-request-id', 'request-id'];

/** The default error reading: the whole body is the error; its `message` (string) the message. */
export function defaultErrorBody(body: object): ProviderErrorBody {
  const message = (body as { message?: unknown }).message;
  return { error: body, message: typeof message === 'string' ? message : undefined };
}
