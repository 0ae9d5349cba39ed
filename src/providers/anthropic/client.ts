/**
 * The Anthropic client: `new Anthropic()` with @anthropic-ai/sdk's options and resource tree
 * (`messages`, `models`, `beta`, …), on the provider kit.
 */
import { BaseClient, type BaseClientOptions, type RequestOptions } from '../../core/client.js';
import * as Errors from '../../core/errors.js';
import { type ModelDeprecationWarnings, resolveModelDeprecationWarnings } from './lib/model-warnings.js';
import { Beta, Completions, Messages, Models } from './resources/index.js';
import { anthropicSpec } from './spec.js';

/** Options of `new Anthropic()`; every one optional (environment variables fill the gaps). */
export interface ClientOptions extends BaseClientOptions {
  /** API key; default `process.env.ANTHROPIC_API_KEY`. Sent as `x-api-key`, never logged. */
  apiKey?: string | null | undefined;
  /** OAuth/bearer token; default `process.env.ANTHROPIC_AUTH_TOKEN`. Sent as `Authorization: Bearer …`. */
  authToken?: string | null | undefined;
  /** Default `process.env.ANTHROPIC_BASE_URL`, else `https://api.anthropic.com` (paths include `/v1`). */
  baseURL?: string | null | undefined;
  /** Beta features for every request, sent as `anthropic-beta: a,b` (e.g. `['files-api-2025-04-14']`). */
  betas?: readonly string[] | undefined;
  /** `anthropic-version` header. Default `2023-06-01`. */
  apiVersion?: string | undefined;
  /**
   * Deprecation warnings (`console.warn`) of `messages.create()` / `.stream()` for a deprecated model
   * or a deprecated `thinking.type`: `'once'` per model per process, `'always'` on every call (as
   * @anthropic-ai/sdk), or `'off'`. Default `process.env.AIWIRE_MODEL_DEPRECATION_WARNINGS`, else
   * `'once'`. The model list: src/providers/anthropic/lib/deprecated-models.ts.
   */
  modelDeprecationWarnings?: ModelDeprecationWarnings | undefined;
}

/**
 * Anthropic API client (https://docs.anthropic.com/en/api). Resources as @anthropic-ai/sdk's:
 * `client.messages.create(…)`, `client.messages.batches.list()`, `client.models.list()`,
 * `client.beta.files.upload(…)`, …
 *
 * @throws AnthropicError (an `AiwireError`) when neither an API key nor an auth token is given or
 *   found in `ANTHROPIC_API_KEY` / `ANTHROPIC_AUTH_TOKEN` (and no `endpoints` are given), or an option
 *   (or `AIWIRE_MODEL_DEPRECATION_WARNINGS`) is invalid.
 */
export class Anthropic extends BaseClient {
  /** The API key in use, if any (not enumerable, so logging the client does not print it). */
  declare readonly apiKey: string | null;
  /** The auth token in use, if any (not enumerable). */
  declare readonly authToken: string | null;
  /** How deprecation warnings are printed (the option, else the environment, else `'once'`). */
  readonly modelDeprecationWarnings: ModelDeprecationWarnings;
  /** The options this client was built with (for `withOptions`). */
  readonly #options: ClientOptions;

  #messages?: Messages;
  /** `client.messages.create()`, `.countTokens()`, `.stream()`, `.batches.*`. */
  get messages(): Messages {
    this.#messages ??= new Messages(this);
    return this.#messages;
  }
  #models?: Models;
  /** `client.models.list()`, `.retrieve()`. */
  get models(): Models {
    this.#models ??= new Models(this);
    return this.#models;
  }
  #beta?: Beta;
  /** `client.beta.*`: beta APIs (files, skills, agents, sessions, …), sent with `anthropic-beta`. */
  get beta(): Beta {
    this.#beta ??= new Beta(this);
    return this.#beta;
  }
  #completions?: Completions;
  /** `client.completions.create()`: the legacy Text Completions API. */
  get completions(): Completions {
    this.#completions ??= new Completions(this);
    return this.#completions;
  }

  /**
   * @param options client options; the environment fills the gaps (`ANTHROPIC_API_KEY`,
   *   `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_BASE_URL`, `ANTHROPIC_LOG`, `AIWIRE_MODEL_DEPRECATION_WARNINGS`).
   */
  constructor(options: ClientOptions = {}) {
    const {
      apiKey = process.env.ANTHROPIC_API_KEY ?? null,
      authToken = process.env.ANTHROPIC_AUTH_TOKEN ?? null,
      baseURL = process.env.ANTHROPIC_BASE_URL,
      betas,
      apiVersion = '2023-06-01',
      modelDeprecationWarnings,
      ...rest
    } = options;
    const warnings = resolveModelDeprecationWarnings(modelDeprecationWarnings);
    if (!apiKey && !authToken && !rest.endpoints) {
      throw new Errors.AiwireError(
        'Could not resolve authentication method: set the ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) environment variable, or pass new Anthropic({ apiKey }) or new Anthropic({ authToken }).',
      );
    }
    const headers = (key: string | null, token: string | null) => ({
      'x-api-key': key || null,
      authorization: token ? `Bearer ${token}` : null,
      'anthropic-version': apiVersion,
      'anthropic-beta': betas && betas.length > 0 ? betas.join(',') : null,
    });
    super(
      { ...rest, baseURL: baseURL || 'https://api.anthropic.com' },
      anthropicSpec,
      headers(apiKey, authToken),
      { hasCredential: !!(apiKey || authToken), headersFor: (key) => headers(key, null) },
    );
    Object.defineProperty(this, 'apiKey', { value: apiKey || null, enumerable: false });
    Object.defineProperty(this, 'authToken', { value: authToken || null, enumerable: false });
    this.modelDeprecationWarnings = warnings;
    this.#options = options;
  }

  /** A new client with these options over this one's (its own engine). */
  withOptions(options: Partial<ClientOptions>): this {
    const Ctor = this.constructor as new (options: ClientOptions) => this;
    return new Ctor({
      ...this.#options,
      apiKey: this.apiKey,
      authToken: this.authToken,
      baseURL: this.baseURL,
      ...options,
    });
  }

  static Anthropic = this;
  static HUMAN_PROMPT = '\n\nHuman:';
  static AI_PROMPT = '\n\nAssistant:';
  static AiwireError = Errors.AiwireError;
  static AnthropicError = Errors.AiwireError;
  static APIError = Errors.APIError;
  static APIConnectionError = Errors.APIConnectionError;
  static APIConnectionTimeoutError = Errors.APIConnectionTimeoutError;
  static APIUserAbortError = Errors.APIUserAbortError;
  static NotFoundError = Errors.NotFoundError;
  static ConflictError = Errors.ConflictError;
  static RateLimitError = Errors.RateLimitError;
  static BadRequestError = Errors.BadRequestError;
  static AuthenticationError = Errors.AuthenticationError;
  static InternalServerError = Errors.InternalServerError;
  static PermissionDeniedError = Errors.PermissionDeniedError;
  static UnprocessableEntityError = Errors.UnprocessableEntityError;
}

/** Types reachable as `Anthropic.RequestOptions`, `Anthropic.ClientOptions` (as @anthropic-ai/sdk). */
export declare namespace Anthropic {
  export type { ClientOptions, RequestOptions };
  export { Beta, Completions, Messages, Models };
}
