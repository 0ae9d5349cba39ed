/**
 * The Replicate client: `new Replicate()` with replicate-javascript's options and resource tree
 * (`predictions`, `models`, `deployments`, `files`, …), on the provider kit.
 */
import { BaseClient, type BaseClientOptions } from '../../core/client.js';
import * as Errors from '../../core/errors.js';
import type { AbstractPage } from '../../core/pagination/page.js';
import {
  ModelError,
  type Prediction,
  type Progress,
  type RunOptions,
  run,
  type ServerSentEvent,
  type StreamOptions,
  stream,
  validateWebhook,
  type WaitOptions,
  wait,
} from './lib/index.js';
import type { FileEncodingStrategy } from './lib/types.js';
import {
  Accounts,
  Collections,
  Deployments,
  Files,
  Hardware,
  Models,
  Predictions,
  Trainings,
  Webhooks,
} from './resources/index.js';
import { replicateSpec } from './spec.js';

/** Options of `new Replicate()`; every one optional (environment variables fill the gaps). */
export interface ClientOptions extends BaseClientOptions {
  /** API token; default `process.env.REPLICATE_API_TOKEN`. Sent as `Authorization: Bearer …`, never logged. */
  auth?: string | undefined;
  /** Default `process.env.REPLICATE_BASE_URL`, else `https://api.replicate.com/v1`. */
  baseUrl?: string | undefined;
  /** `User-Agent` header. Default `aiwire-replicate`. */
  userAgent?: string | undefined;
  /** `run()` / `stream()` wrap URL outputs in `FileOutput` objects (as replicate-javascript 1.x). Default true. */
  useFileOutput?: boolean | undefined;
  /**
   * How files in `run()` inputs are sent: `upload` (POST /files, 100 MiB max), `data-uri` (base64
   * inline, 1 MiB max in total), `default` (upload, falling back to a data URI). Default `default`.
   */
  fileEncodingStrategy?: FileEncodingStrategy | undefined;
}

/**
 * Replicate API client (https://replicate.com/docs/reference/http), with replicate-javascript's
 * option names (`auth`, `baseUrl`, `userAgent`) plus every aiwire client option (`maxRetries`,
 * `timeout`, `connectTimeout`, …; `baseURL` is accepted too).
 *
 * @throws AiwireError when no token is given or found in `REPLICATE_API_TOKEN` (and no `endpoints` are
 *   given), or an option is invalid.
 */
export class Replicate extends BaseClient {
  /** The API token in use (not enumerable, so logging the client does not print it). */
  declare readonly auth: string;
  /** Whether `run()` / `stream()` wrap URL outputs in `FileOutput`. */
  readonly useFileOutput: boolean;
  /** How files in `run()` inputs are sent. */
  readonly fileEncodingStrategy: FileEncodingStrategy;
  /** The options this client was built with (for `withOptions`). */
  readonly #options: ClientOptions;

  #accounts?: Accounts;
  /** `replicate.accounts.current()`. */
  get accounts(): Accounts {
    this.#accounts ??= new Accounts(this);
    return this.#accounts;
  }
  #collections?: Collections;
  /** `replicate.collections.list()`, `.get(collection_slug)`. */
  get collections(): Collections {
    this.#collections ??= new Collections(this);
    return this.#collections;
  }
  #deployments?: Deployments;
  /** `replicate.deployments` (list/get/create/update/delete, `.predictions.create(owner, name, …)`). */
  get deployments(): Deployments {
    this.#deployments ??= new Deployments(this);
    return this.#deployments;
  }
  #files?: Files;
  /** `replicate.files` (create/list/get/delete/download). */
  get files(): Files {
    this.#files ??= new Files(this);
    return this.#files;
  }
  #hardware?: Hardware;
  /** `replicate.hardware.list()`. */
  get hardware(): Hardware {
    this.#hardware ??= new Hardware(this);
    return this.#hardware;
  }
  #models?: Models;
  /** `replicate.models` (list/get/create/update/delete/search/examples/readme, `.versions`, `.predictions`). */
  get models(): Models {
    this.#models ??= new Models(this);
    return this.#models;
  }
  #predictions?: Predictions;
  /** `replicate.predictions` (create/get/list/cancel). */
  get predictions(): Predictions {
    this.#predictions ??= new Predictions(this);
    return this.#predictions;
  }
  #trainings?: Trainings;
  /** `replicate.trainings` (create/get/list/cancel). */
  get trainings(): Trainings {
    this.#trainings ??= new Trainings(this);
    return this.#trainings;
  }
  #webhooks?: Webhooks;
  /** `replicate.webhooks.default.secret.get()`. */
  get webhooks(): Webhooks {
    this.#webhooks ??= new Webhooks(this);
    return this.#webhooks;
  }

  /**
   * @param options client options; the environment fills the gaps (`REPLICATE_API_TOKEN`,
   *   `REPLICATE_BASE_URL`, `REPLICATE_LOG`).
   */
  constructor(options: ClientOptions = {}) {
    const {
      auth = process.env.REPLICATE_API_TOKEN,
      baseUrl,
      baseURL = baseUrl ?? process.env.REPLICATE_BASE_URL,
      userAgent = 'aiwire-replicate',
      useFileOutput = true,
      fileEncodingStrategy = 'default',
      ...rest
    } = options;
    if (!auth && !rest.endpoints) {
      throw new Errors.AiwireError(
        "The REPLICATE_API_TOKEN environment variable is missing or empty; either provide it, or instantiate the Replicate client with an auth option, like new Replicate({ auth: 'r8_…' }).",
      );
    }
    const headers = (token: string | undefined) => ({
      authorization: token ? `Bearer ${token}` : null,
      'user-agent': userAgent,
    });
    super({ ...rest, baseURL: baseURL || 'https://api.replicate.com/v1' }, replicateSpec, headers(auth), {
      hasCredential: !!auth,
      headersFor: headers,
    });
    Object.defineProperty(this, 'auth', {
      value: auth || rest.endpoints?.[0]?.apiKey || '',
      enumerable: false,
    });
    this.useFileOutput = useFileOutput;
    this.fileEncodingStrategy = fileEncodingStrategy;
    this.#options = options;
  }

  /**
   * Run a model and resolve to its output (replicate-javascript's `run`): `ref` is `owner/name`,
   * `owner/name:version` or a version id; waits with `Prefer: wait` (`options.wait`: true or 1-60 s),
   * then polls every `options.interval` ms (default 500). `progress(prediction, { percentage, current,
   * total })` is called as logs arrive.
   * @throws ModelError (the prediction failed; `.prediction`, `.logs`), PredictionCanceledError,
   *   APIUserAbortError (`options.signal` aborted: the prediction is canceled on the server), the
   *   typed API errors, AiwireError for a bad `ref` or `wait`.
   */
  run(
    ref: string,
    options: RunOptions,
    progress?: (prediction: Prediction, progress: Progress | null) => void,
  ): Promise<unknown> {
    return run(this, ref, options, progress);
  }

  /**
   * Run a model and stream its output as server-sent events (`output`, `logs`, `done`, `error`), from
   * the prediction's `urls.stream`, through the engine.
   * @throws ModelError for an `error` event, APIUserAbortError, the typed API errors.
   */
  stream(ref: string, options: StreamOptions): AsyncGenerator<ServerSentEvent, void, undefined> {
    return stream(this, ref, options);
  }

  /**
   * Poll a prediction until it succeeded, failed or was canceled (every `options.interval` ms, default
   * 500), and resolve to its last state.
   * @throws APIUserAbortError when `options.signal` aborts; the typed API errors.
   */
  wait(prediction: Prediction, options?: WaitOptions): Promise<Prediction> {
    return wait(this, prediction, options);
  }

  /**
   * Every item of every page of a list, following `next` URLs (replicate-javascript's `paginate`
   * yields pages: here `for await (const page of (await list()).iterPages())`; this yields pages too).
   */
  async *paginate<Item>(
    list: () => PromiseLike<AbstractPage<Item>>,
  ): AsyncGenerator<Item[], void, undefined> {
    for await (const page of (await list()).iterPages()) yield page.getPaginatedItems();
  }

  /** A new client with these options over this one's (its own engine). */
  withOptions(options: Partial<ClientOptions>): this {
    const Ctor = this.constructor as new (options: ClientOptions) => this;
    return new Ctor({ ...this.#options, auth: this.auth, baseURL: this.baseURL, ...options });
  }

  static Replicate = this;
  static AiwireError = Errors.AiwireError;
  static APIError = Errors.APIError;
  static ModelError = ModelError;
  /** replicate-javascript's static webhook check: `Replicate.validateWebhook(request, secret)`. */
  static validateWebhook = validateWebhook;
}
