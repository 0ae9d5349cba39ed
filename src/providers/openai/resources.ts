/**
 * OpenAI resources: `chat.completions`, `models`, `embeddings`, with openai-node's method names.
 */
import type { APIPromise } from '../../core/api-promise.js';
import type { BaseClient, RequestOptions } from '../../core/client.js';
import { APIError } from '../../core/errors.js';
import { fetchPage, type PagePromise } from '../../core/pagination.js';
import type { Stream, StreamDecoder } from '../../core/streaming.js';
import { embeddingsFromNative } from './embeddings.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  CreateEmbeddingResponse,
  EmbeddingCreateParams,
  Model,
} from './types.js';

/**
 * OpenAI stream decoding: event data is JSON; `[DONE]` ends the stream (recognised in the engine); an
 * `error` event, or a chunk with an `error` field, throws `APIError` (as openai-node does).
 */
export const openAIStreamDecoder: StreamDecoder<never> = {
  mode: 'json',
  done: '[DONE]',
  decode(value: unknown, eventType: string): never {
    const error = (value as { error?: object } | null)?.error;
    if (eventType === 'error' || error) {
      throw new APIError(undefined, error ?? (value as object), undefined, undefined);
    }
    return value as never;
  },
};

/** {@link openAIStreamDecoder} typed for one item type. */
function decoderOf<T>(): StreamDecoder<T> {
  return openAIStreamDecoder as StreamDecoder<T>;
}

/** A resource bound to its client. */
abstract class Resource {
  /** @internal */
  protected readonly _client: BaseClient;
  constructor(client: BaseClient) {
    this._client = client;
  }
}

/** `POST /chat/completions`. */
export class Completions extends Resource {
  /**
   * Create a model response for the conversation (API reference: "Create chat completion").
   * With `stream: true` resolves to a `Stream<ChatCompletionChunk>`; otherwise to a `ChatCompletion`.
   *
   * @throws BadRequestError, AuthenticationError, RateLimitError, … (`APIError` subclasses by status),
   *   APIConnectionError, APIConnectionTimeoutError, APIUserAbortError.
   */
  create(body: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): APIPromise<ChatCompletion>;
  create(
    body: ChatCompletionCreateParamsStreaming,
    options?: RequestOptions,
  ): APIPromise<Stream<ChatCompletionChunk>>;
  create(
    body: ChatCompletionCreateParamsBase,
    options?: RequestOptions,
  ): APIPromise<Stream<ChatCompletionChunk> | ChatCompletion>;
  create(
    body: ChatCompletionCreateParamsBase,
    options?: RequestOptions,
  ): APIPromise<Stream<ChatCompletionChunk>> | APIPromise<ChatCompletion> {
    const req = { method: 'post' as const, path: '/chat/completions', body, options };
    if (body.stream) return this._client.stream(req, decoderOf<ChatCompletionChunk>());
    return this._client.request<ChatCompletion>(req);
  }
}

/** `chat.*` */
export class Chat extends Resource {
  /** Chat completions. */
  readonly completions: Completions = new Completions(this._client);
}

/** `GET /models`, `GET /models/{model}`. */
export class Models extends Resource {
  /**
   * A model's details (API reference: "Retrieve model").
   * @throws NotFoundError for an unknown model id.
   */
  retrieve(model: string, options?: RequestOptions): APIPromise<Model> {
    return this._client.request<Model>({
      method: 'get',
      path: `/models/${encodeURIComponent(model)}`,
      options,
    });
  }

  /** The models available (API reference: "List models"); iterate with `for await`. */
  list(options?: RequestOptions): PagePromise<Model> {
    return fetchPage<Model>(this._client, { method: 'get', path: '/models', options });
  }
}

/** `POST /embeddings`. */
export class Embeddings extends Resource {
  /**
   * Embedding vectors for the input (API reference: "Create embeddings").
   * @throws BadRequestError / UnprocessableEntityError for invalid input, and the usual API errors.
   */
  create(body: EmbeddingCreateParams, options?: RequestOptions): APIPromise<CreateEmbeddingResponse> {
    // As openai-node: without an explicit format, ask for base64 (4 bytes per value on the wire instead
    // of ~20) and hand back numbers. Here the engine decodes either format into one Float64Array.
    const asked = body.encoding_format;
    return this._client.requestWith<CreateEmbeddingResponse>(
      {
        method: 'post',
        path: '/embeddings',
        body: asked ? body : { ...body, encoding_format: 'base64' },
        options,
        decode: asked === 'base64' ? undefined : 'embeddings',
      },
      (raw) => embeddingsFromNative(raw.native, asked === 'base64'),
    );
  }
}
