/**
 * The OpenAI client: `new OpenAI()` with openai-node's options and resource tree.
 */
import { BaseClient, type BaseClientOptions } from '../../core/client.js';
import * as Errors from '../../core/errors.js';
import type { ProviderSpec } from '../../core/provider.js';
import { Webhooks } from './lib/webhooks.js';
import { Chat, Embeddings, Models } from './resources.js';
import { openAISpec } from './spec.js';

/** Options of `new OpenAI()`; every one optional (environment variables fill the gaps). */
export interface ClientOptions extends BaseClientOptions {
  /** API key; default `process.env.OPENAI_API_KEY`. Sent as `Authorization: Bearer …`, never logged. */
  apiKey?: string | undefined;
  /** `OpenAI-Organization` header; default `process.env.OPENAI_ORG_ID`. */
  organization?: string | null | undefined;
  /** `OpenAI-Project` header; default `process.env.OPENAI_PROJECT_ID`. */
  project?: string | null | undefined;
  /** Default `process.env.OPENAI_BASE_URL`, else `https://api.openai.com/v1`. */
  baseURL?: string | null | undefined;
  /** Secret for `webhooks.unwrap()` / `verifySignature()`; default `process.env.OPENAI_WEBHOOK_SECRET`. */
  webhookSecret?: string | null | undefined;
}

/**
 * OpenAI API client (https://platform.openai.com/docs/api-reference).
 *
 * @throws OpenAIError (an `AiwireError`) when no API key is given or found in `OPENAI_API_KEY`, or an
 *   option is invalid.
 */
export class OpenAI extends BaseClient {
  /** The API key in use. Not enumerable, so logging the client does not print it. */
  declare readonly apiKey: string;
  /** `OpenAI-Organization`, if set. */
  readonly organization: string | null;
  /** `OpenAI-Project`, if set. */
  readonly project: string | null;
  /** Webhook secret, if set (not enumerable). */
  declare readonly webhookSecret: string | null;
  /** The options this client was built with (for `withOptions`). */
  readonly #options: ClientOptions;

  /** `chat.completions.*`. */
  readonly chat: Chat = new Chat(this);
  /** `models.list()`, `models.retrieve(id)`. */
  readonly models: Models = new Models(this);
  /** `embeddings.create(...)`. */
  readonly embeddings: Embeddings = new Embeddings(this);
  /** `webhooks.unwrap()`, `webhooks.verifySignature()`. */
  readonly webhooks: Webhooks = new Webhooks(this);

  /**
   * @param options client options; the environment fills the gaps (`OPENAI_API_KEY`,
   *   `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`, `OPENAI_WEBHOOK_SECRET`).
   * @param spec the wire conventions (a subclass such as `AzureOpenAI` passes its own).
   * @param auth the credential headers (default `Authorization: Bearer <apiKey>`).
   */
  constructor(
    options: ClientOptions = {},
    spec: ProviderSpec = openAISpec,
    auth?: (apiKey: string) => Record<string, string | null | undefined>,
  ) {
    const {
      apiKey = process.env.OPENAI_API_KEY,
      organization = process.env.OPENAI_ORG_ID ?? null,
      project = process.env.OPENAI_PROJECT_ID ?? null,
      baseURL = process.env.OPENAI_BASE_URL,
      webhookSecret = process.env.OPENAI_WEBHOOK_SECRET ?? null,
      ...rest
    } = options;
    if (!apiKey) {
      throw new Errors.AiwireError(
        "The OPENAI_API_KEY environment variable is missing or empty; either provide it, or instantiate the OpenAI client with an apiKey option, like new OpenAI({ apiKey: 'My API Key' }).",
      );
    }
    super({ ...rest, baseURL: baseURL || 'https://api.openai.com/v1' }, spec, {
      ...(auth ? auth(apiKey) : { authorization: `Bearer ${apiKey}` }),
      'openai-organization': organization,
      'openai-project': project,
    });
    Object.defineProperty(this, 'apiKey', { value: apiKey, enumerable: false, writable: false });
    Object.defineProperty(this, 'webhookSecret', {
      value: webhookSecret,
      enumerable: false,
      writable: false,
    });
    this.organization = organization;
    this.project = project;
    this.#options = options;
  }

  /**
   * A new client with these options over this one's (as openai-node's `withOptions`): e.g.
   * `client.withOptions({ timeout: 5_000 }).chat.completions.create(…)`. The new client has its own
   * engine.
   */
  withOptions(options: Partial<ClientOptions>): this {
    const Ctor = this.constructor as new (options: ClientOptions) => this;
    return new Ctor({
      ...this.#options,
      apiKey: this.apiKey,
      baseURL: this.baseURL,
      organization: this.organization,
      project: this.project,
      ...options,
    });
  }

  static OpenAI = this;
  static AiwireError = Errors.AiwireError;
  static OpenAIError = Errors.AiwireError;
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
  static InvalidWebhookSignatureError = Errors.InvalidWebhookSignatureError;
}
