/**
 * The OpenAI client: `new OpenAI()` with openai-node's options and resources.
 */
import { BaseClient, type BaseClientOptions } from '../../core/client.js';
import * as Errors from '../../core/errors.js';
import { Chat, Embeddings, Models } from './resources.js';

export { Chat, Completions, Embeddings, Models, openAIStreamDecoder } from './resources.js';
export * from './types.js';

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

  /** `chat.completions.create(...)`. */
  readonly chat: Chat;
  /** `models.list()`, `models.retrieve(id)`. */
  readonly models: Models;
  /** `embeddings.create(...)`. */
  readonly embeddings: Embeddings;

  constructor({
    apiKey = process.env.OPENAI_API_KEY,
    organization = process.env.OPENAI_ORG_ID ?? null,
    project = process.env.OPENAI_PROJECT_ID ?? null,
    baseURL = process.env.OPENAI_BASE_URL,
    ...options
  }: ClientOptions = {}) {
    if (!apiKey) {
      throw new Errors.AiwireError(
        "The OPENAI_API_KEY environment variable is missing or empty; either provide it, or instantiate the OpenAI client with an apiKey option, like new OpenAI({ apiKey: 'My API Key' }).",
      );
    }
    super(
      { ...options, baseURL: baseURL || 'https://api.openai.com/v1' },
      {
        authorization: `Bearer ${apiKey}`,
        'openai-organization': organization,
        'openai-project': project,
      },
      'OPENAI_LOG',
    );
    Object.defineProperty(this, 'apiKey', { value: apiKey, enumerable: false, writable: false });
    this.organization = organization;
    this.project = project;
    this.chat = new Chat(this);
    this.models = new Models(this);
    this.embeddings = new Embeddings(this);
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
}
