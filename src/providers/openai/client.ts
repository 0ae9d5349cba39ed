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
 * @throws OpenAIError (an `AiwireError`) when no API key is given or found in `OPENAI_API_KEY` (and no
 *   `endpoints` are given), or an option is invalid.
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

  #admin?: Admin;
  /** `client.admin.*`: see the `Admin` resource. */
  get admin(): Admin {
    this.#admin ??= new Admin(this);
    return this.#admin;
  }
  #audio?: Audio;
  /** `client.audio.*`: see the `Audio` resource. */
  get audio(): Audio {
    this.#audio ??= new Audio(this);
    return this.#audio;
  }
  #batches?: Batches;
  /** `client.batches.*`: see the `Batches` resource. */
  get batches(): Batches {
    this.#batches ??= new Batches(this);
    return this.#batches;
  }
  #beta?: Beta;
  /** `client.beta.*`: see the `Beta` resource. */
  get beta(): Beta {
    this.#beta ??= new Beta(this);
    return this.#beta;
  }
  #chat?: Chat;
  /** `client.chat.*`: see the `Chat` resource. */
  get chat(): Chat {
    this.#chat ??= new Chat(this);
    return this.#chat;
  }
  #completions?: Completions;
  /** `client.completions.*`: see the `Completions` resource. */
  get completions(): Completions {
    this.#completions ??= new Completions(this);
    return this.#completions;
  }
  #containers?: Containers;
  /** `client.containers.*`: see the `Containers` resource. */
  get containers(): Containers {
    this.#containers ??= new Containers(this);
    return this.#containers;
  }
  #contentProvenanceChecks?: ContentProvenanceChecks;
  /** `client.contentProvenanceChecks.*`: see the `ContentProvenanceChecks` resource. */
  get contentProvenanceChecks(): ContentProvenanceChecks {
    this.#contentProvenanceChecks ??= new ContentProvenanceChecks(this);
    return this.#contentProvenanceChecks;
  }
  #conversations?: Conversations;
  /** `client.conversations.*`: see the `Conversations` resource. */
  get conversations(): Conversations {
    this.#conversations ??= new Conversations(this);
    return this.#conversations;
  }
  #embeddings?: Embeddings;
  /** `client.embeddings.*`: see the `Embeddings` resource. */
  get embeddings(): Embeddings {
    this.#embeddings ??= new Embeddings(this);
    return this.#embeddings;
  }
  #evals?: Evals;
  /** `client.evals.*`: see the `Evals` resource. */
  get evals(): Evals {
    this.#evals ??= new Evals(this);
    return this.#evals;
  }
  #files?: Files;
  /** `client.files.*`: see the `Files` resource. */
  get files(): Files {
    this.#files ??= new Files(this);
    return this.#files;
  }
  #fineTuning?: FineTuning;
  /** `client.fineTuning.*`: see the `FineTuning` resource. */
  get fineTuning(): FineTuning {
    this.#fineTuning ??= new FineTuning(this);
    return this.#fineTuning;
  }
  #graders?: Graders;
  /** `client.graders.*`: see the `Graders` resource (grader types). */
  get graders(): Graders {
    this.#graders ??= new Graders(this);
    return this.#graders;
  }
  #images?: Images;
  /** `client.images.*`: see the `Images` resource. */
  get images(): Images {
    this.#images ??= new Images(this);
    return this.#images;
  }
  #models?: Models;
  /** `client.models.*`: see the `Models` resource. */
  get models(): Models {
    this.#models ??= new Models(this);
    return this.#models;
  }
  #moderations?: Moderations;
  /** `client.moderations.*`: see the `Moderations` resource. */
  get moderations(): Moderations {
    this.#moderations ??= new Moderations(this);
    return this.#moderations;
  }
  #realtime?: Realtime;
  /** `client.realtime.*`: see the `Realtime` resource. */
  get realtime(): Realtime {
    this.#realtime ??= new Realtime(this);
    return this.#realtime;
  }
  #responses?: Responses;
  /** `client.responses.*`: see the `Responses` resource. */
  get responses(): Responses {
    this.#responses ??= new Responses(this);
    return this.#responses;
  }
  #skills?: Skills;
  /** `client.skills.*`: see the `Skills` resource. */
  get skills(): Skills {
    this.#skills ??= new Skills(this);
    return this.#skills;
  }
  #uploads?: Uploads;
  /** `client.uploads.*`: see the `Uploads` resource. */
  get uploads(): Uploads {
    this.#uploads ??= new Uploads(this);
    return this.#uploads;
  }
  #vectorStores?: VectorStores;
  /** `client.vectorStores.*`: see the `VectorStores` resource. */
  get vectorStores(): VectorStores {
    this.#vectorStores ??= new VectorStores(this);
    return this.#vectorStores;
  }
  #videos?: Videos;
  /** `client.videos.*`: see the `Videos` resource. */
  get videos(): Videos {
    this.#videos ??= new Videos(this);
    return this.#videos;
  }
  #webhooks?: Webhooks;
  /** `webhooks.unwrap()`, `webhooks.verifySignature()`. */
  get webhooks(): Webhooks {
    this.#webhooks ??= new Webhooks(this);
    return this.#webhooks;
  }

  /**
   * @param options client options; the environment fills the gaps (`OPENAI_API_KEY`,
   *   `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`, `OPENAI_WEBHOOK_SECRET`).
   * @param spec the wire conventions (a subclass such as `AzureOpenAI` passes its own).
   * @param auth the credential headers of a key (default `Authorization: Bearer <apiKey>`), for the
   *   client's key and the `endpoints`' keys.
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
    if (!apiKey && !rest.endpoints) {
      throw new Errors.AiwireError(
        "The OPENAI_API_KEY environment variable is missing or empty; either provide it, or instantiate the OpenAI client with an apiKey option, like new OpenAI({ apiKey: 'My API Key' }).",
      );
    }
    const headersFor = (key: string | undefined) => ({
      ...(key === undefined ? {} : auth ? auth(key) : { authorization: `Bearer ${key}` }),
      'openai-organization': organization,
      'openai-project': project,
    });
    super(
      { ...rest, baseURL: baseURL || 'https://api.openai.com/v1' },
      spec,
      headersFor(apiKey || undefined),
      {
        hasCredential: !!apiKey,
        headersFor,
      },
    );
    const key = apiKey || rest.endpoints?.[0]?.apiKey || '';
    Object.defineProperty(this, 'apiKey', { value: key, enumerable: false, writable: false });
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
