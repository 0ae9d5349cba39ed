/**
 * The AIVillage client: `new AIVillage()` (AIVILLAGE_API_KEY, AIVILLAGE_API_URL) with the issue's
 * resource tree: `health()`, `chat()`, `query()`, `agents`, `p2p`, `digitalTwin.profile`, plus
 * `batchChat()`, on the provider kit.
 */
import type { APIPromise } from '../../core/api-promise.js';
import { BaseClient, type BaseClientOptions, type RequestOptions } from '../../core/client.js';
import * as Errors from '../../core/errors.js';
import { type BatchChatOptions, batchChat } from './lib/batch.js';
import {
  AIVillageRateLimitError,
  AIVillageServerError,
  AIVillageUnprocessableEntityError,
  AIVillageValidationError,
  isValidationError,
} from './lib/errors.js';
import { Agents, DigitalTwin, P2P, TopLevel } from './resources/index.js';
import type {
  ChatParams,
  ChatResponse,
  HealthResponse,
  QueryParams,
  QueryResponse,
} from './resources/top-level.js';
import { aivillageSpec } from './spec.js';

/** How the API key is sent: `Authorization: Bearer <key>` or `x-api-key: <key>` (the spec accepts both). */
export type AuthScheme = 'bearer' | 'x-api-key';

/** The production base URL (the spec's first server). */
export const DEFAULT_BASE_URL = 'https://api.aivillage.io/v1';

/** Options of `new AIVillage()`; every one optional (environment variables fill the gaps). */
export interface ClientOptions extends BaseClientOptions {
  /** API key; default `process.env.AIVILLAGE_API_KEY`. Never logged. */
  apiKey?: string | undefined;
  /**
   * Base URL, with the `/v1`; default `process.env.AIVILLAGE_API_URL`, else
   * `https://api.aivillage.io/v1` (the aiwire mock: `http://127.0.0.1:PORT/aivillage/v1`).
   */
  baseURL?: string | null | undefined;
  /**
   * How the key is sent: `'bearer'` (`Authorization: Bearer <key>`, the spec's first security scheme
   * and the seed SDK's `bearer_access_token`) or `'x-api-key'` (the spec's `ApiKeyAuth`). Default
   * `'bearer'`.
   */
  authScheme?: AuthScheme | undefined;
}

/**
 * AIVillage API client (specs/aivillage.openapi.yaml), with every aiwire client option (`maxRetries`
 * default 2, `timeout` ms, `circuitBreaker`, `rateLimit`, metrics, hooks, …). POSTs carry an
 * `Idempotency-Key` (a fresh one per call, the same on each of its retries), so retrying a chat after
 * a 5xx or a dropped connection cannot run it twice on the server.
 *
 * Errors: `AIVillageValidationError` (400) / `AIVillageUnprocessableEntityError` (422) with
 * `fieldErrors`, `AIVillageRateLimitError` (429, `retryAfterMs`), `AIVillageServerError` (>= 500),
 * the core classes for other statuses (`AuthenticationError` 401, `NotFoundError` 404), and
 * `APIConnectionError` / `APIConnectionTimeoutError` / `APIUserAbortError`.
 *
 * @throws AiwireError when no key is given or found in `AIVILLAGE_API_KEY`, `authScheme` is not one of
 *   the two, or another option is invalid.
 */
export class AIVillage extends BaseClient {
  /** The API key in use (not enumerable, so logging the client does not print it). */
  declare readonly apiKey: string;
  /** How the key is sent. */
  readonly authScheme: AuthScheme;
  /** The options this client was built with (for `withOptions`). */
  readonly #options: ClientOptions;
  /** `health()`, `chat()`, `query()`: the generated methods of the client itself. */
  readonly #top: TopLevel;

  #agents?: Agents;
  /** `client.agents.list({ category, available_only })`, `.assignTask(agentID, { task_description, … })`. */
  get agents(): Agents {
    this.#agents ??= new Agents(this);
    return this.#agents;
  }
  #p2p?: P2P;
  /** `client.p2p.status()`, `.peers({ transport })`. */
  get p2p(): P2P {
    this.#p2p ??= new P2P(this);
    return this.#p2p;
  }
  #digitalTwin?: DigitalTwin;
  /** `client.digitalTwin.profile.retrieve()`, `.update({ data_type, data_points })`. */
  get digitalTwin(): DigitalTwin {
    this.#digitalTwin ??= new DigitalTwin(this);
    return this.#digitalTwin;
  }

  /**
   * @param options client options; the environment fills the gaps (`AIVILLAGE_API_KEY`,
   *   `AIVILLAGE_API_URL`, `AIVILLAGE_LOG`, `AIVILLAGE_PRESET`).
   */
  constructor(options: ClientOptions = {}) {
    const {
      apiKey = process.env.AIVILLAGE_API_KEY,
      baseURL = process.env.AIVILLAGE_API_URL,
      authScheme = 'bearer',
      ...rest
    } = options;
    if (!apiKey && !rest.endpoints) {
      throw new Errors.AiwireError(
        "The AIVILLAGE_API_KEY environment variable is missing or empty; either provide it, or instantiate the AIVillage client with an apiKey option, like new AIVillage({ apiKey: 'My API Key' }).",
      );
    }
    if (authScheme !== 'bearer' && authScheme !== 'x-api-key') {
      throw new Errors.AiwireError(
        `authScheme must be 'bearer' or 'x-api-key', got ${JSON.stringify(authScheme)}`,
      );
    }
    // With `endpoints`, each endpoint's key goes through headersFor (see core/endpoints.ts).
    const headersFor = (key: string | undefined): Record<string, string> =>
      key === undefined
        ? {}
        : authScheme === 'bearer'
          ? { authorization: `Bearer ${key}` }
          : { 'x-api-key': key };
    super({ ...rest, baseURL: baseURL || DEFAULT_BASE_URL }, aivillageSpec, headersFor(apiKey || undefined), {
      hasCredential: !!apiKey,
      headersFor,
    });
    Object.defineProperty(this, 'apiKey', {
      value: apiKey || rest.endpoints?.[0]?.apiKey || '',
      enumerable: false,
    });
    this.authScheme = authScheme;
    this.#options = options;
    this.#top = new TopLevel(this);
  }

  /**
   * API health and its services' (`GET /health`; needs no key).
   * @throws the typed API errors (503 → `AIVillageServerError`), `APIConnectionError`.
   */
  health(options?: RequestOptions): APIPromise<HealthResponse> {
    return this.#top.health(options);
  }

  /**
   * Send a message to the multi-agent system (`POST /chat`): `message` (required), `agent_preference`
   * (`king`, `magi`, `sage`, `oracle`, `navigator`, `any`: default `any`), `mode` (`fast`,
   * `balanced` (default), `comprehensive`, `creative`), `conversation_id` to continue a conversation,
   * `user_context` (`device_type`, `battery_level` 0-100, `network_type`).
   * @throws AIVillageValidationError (400, `fieldErrors`), AIVillageRateLimitError (429),
   *   AIVillageServerError (>= 500) after the retries, APIConnectionError, APIUserAbortError.
   */
  chat(body: ChatParams, options?: RequestOptions): APIPromise<ChatResponse> {
    return this.#top.chat(body, options);
  }

  /**
   * A RAG query (`POST /query`): `query` (required), `mode` (`fast`, `balanced` (default),
   * `comprehensive`, `creative`, `analytical`), `include_sources` (default true), `max_results`
   * (1-50, default 10), `user_id`. The answer has `sources` (each with a `confidence`) and
   * `metadata.bayesian_confidence` (0-1).
   * @throws as `chat()`.
   */
  query(body: QueryParams, options?: RequestOptions): APIPromise<QueryResponse> {
    return this.#top.query(body, options);
  }

  /**
   * Many chats, at most `options.concurrency` (default 5) at a time; resolves (never rejects) to one
   * `PromiseSettledResult` per message, in input order: `{ status: 'fulfilled', value }` or
   * `{ status: 'rejected', reason }` (that chat's typed error). Items are text (sent as
   * `{ message, ...options.defaults }`) or whole chat requests. See `BatchChatOptions`.
   * @throws AiwireError when `concurrency` is not a whole number >= 1.
   */
  batchChat(
    messages: ReadonlyArray<string | ChatParams>,
    options?: BatchChatOptions,
  ): Promise<PromiseSettledResult<ChatResponse>[]> {
    return batchChat(this, messages, options);
  }

  /** A new client with these options over this one's (its own engine). */
  withOptions(options: Partial<ClientOptions>): this {
    const Ctor = this.constructor as new (options: ClientOptions) => this;
    return new Ctor({ ...this.#options, apiKey: this.apiKey, baseURL: this.baseURL, ...options });
  }

  static AIVillage = this;
  static AiwireError = Errors.AiwireError;
  static APIError = Errors.APIError;
  static APIConnectionError = Errors.APIConnectionError;
  static APIConnectionTimeoutError = Errors.APIConnectionTimeoutError;
  static APIUserAbortError = Errors.APIUserAbortError;
  static AuthenticationError = Errors.AuthenticationError;
  static NotFoundError = Errors.NotFoundError;
  static ValidationError = AIVillageValidationError;
  static UnprocessableEntityError = AIVillageUnprocessableEntityError;
  static RateLimitError = AIVillageRateLimitError;
  static ServerError = AIVillageServerError;
  /** `AIVillage.isValidationError(err)`: a 400 or 422 validation error (with `fieldErrors`). */
  static isValidationError = isValidationError;
}
