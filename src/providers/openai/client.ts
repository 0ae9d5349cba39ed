/**
 * The OpenAI client: `new OpenAI()` with openai-node's options and resource tree.
 */
import { BaseClient, type BaseClientOptions, type RequestOptions } from '../../core/client.js';
import * as Errors from '../../core/errors.js';
import type { ProviderSpec } from '../../core/provider.js';
import { Webhooks } from './lib/webhooks.js';
import {
  Admin,
  Audio,
  Batches,
  Beta,
  Chat,
  Completions,
  Containers,
  ContentProvenanceChecks,
  Conversations,
  Embeddings,
  Evals,
  Files,
  FineTuning,
  Graders,
  Images,
  Models,
  Moderations,
  Realtime,
  Responses,
  Skills,
  Uploads,
  VectorStores,
  Videos,
} from './resources/index.js';
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

  /** `client.admin.*`: see the `Admin` resource. */
  readonly admin: Admin = new Admin(this);
  /** `client.audio.*`: see the `Audio` resource. */
  readonly audio: Audio = new Audio(this);
  /** `client.batches.*`: see the `Batches` resource. */
  readonly batches: Batches = new Batches(this);
  /** `client.beta.*`: see the `Beta` resource. */
  readonly beta: Beta = new Beta(this);
  /** `client.chat.*`: see the `Chat` resource. */
  readonly chat: Chat = new Chat(this);
  /** `client.completions.*`: see the `Completions` resource. */
  readonly completions: Completions = new Completions(this);
  /** `client.containers.*`: see the `Containers` resource. */
  readonly containers: Containers = new Containers(this);
  /** `client.contentProvenanceChecks.*`: see the `ContentProvenanceChecks` resource. */
  readonly contentProvenanceChecks: ContentProvenanceChecks = new ContentProvenanceChecks(this);
  /** `client.conversations.*`: see the `Conversations` resource. */
  readonly conversations: Conversations = new Conversations(this);
  /** `client.embeddings.*`: see the `Embeddings` resource. */
  readonly embeddings: Embeddings = new Embeddings(this);
  /** `client.evals.*`: see the `Evals` resource. */
  readonly evals: Evals = new Evals(this);
  /** `client.files.*`: see the `Files` resource. */
  readonly files: Files = new Files(this);
  /** `client.fineTuning.*`: see the `FineTuning` resource. */
  readonly fineTuning: FineTuning = new FineTuning(this);
  /** `client.graders.*`: see the `Graders` resource (grader types). */
  readonly graders: Graders = new Graders(this);
  /** `client.images.*`: see the `Images` resource. */
  readonly images: Images = new Images(this);
  /** `client.models.*`: see the `Models` resource. */
  readonly models: Models = new Models(this);
  /** `client.moderations.*`: see the `Moderations` resource. */
  readonly moderations: Moderations = new Moderations(this);
  /** `client.realtime.*`: see the `Realtime` resource. */
  readonly realtime: Realtime = new Realtime(this);
  /** `client.responses.*`: see the `Responses` resource. */
  readonly responses: Responses = new Responses(this);
  /** `client.skills.*`: see the `Skills` resource. */
  readonly skills: Skills = new Skills(this);
  /** `client.uploads.*`: see the `Uploads` resource. */
  readonly uploads: Uploads = new Uploads(this);
  /** `client.vectorStores.*`: see the `VectorStores` resource. */
  readonly vectorStores: VectorStores = new VectorStores(this);
  /** `client.videos.*`: see the `Videos` resource. */
  readonly videos: Videos = new Videos(this);
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

/**
 * Types and resource classes reachable as `OpenAI.Chat.ChatCompletionMessageParam`,
 * `OpenAI.Chat.Completions.ChatCompletion`, … (openai-node's namespaces).
 */
export declare namespace OpenAI {
  export type { ClientOptions, RequestOptions };
  export {
    Admin,
    Audio,
    Batches,
    Beta,
    Chat,
    Completions,
    Containers,
    ContentProvenanceChecks,
    Conversations,
    Embeddings,
    Evals,
    Files,
    FineTuning,
    Graders,
    Images,
    Models,
    Moderations,
    Realtime,
    Responses,
    Skills,
    Uploads,
    VectorStores,
    Videos,
    Webhooks,
  };
}
