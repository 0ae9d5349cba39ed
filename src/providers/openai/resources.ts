/**
 * TEMPORARY hand-written resources (`chat.completions`, `models`, `embeddings`) on the kit, until the
 * generated resource tree (src/providers/openai/resources/) replaces them.
 */
import { type APIPromise, APIResource, CursorPage, Page, type PagePromise, path } from '../../core/kit.js';
import type { RequestOptions } from '../../core/client.js';
import type { Stream } from '../../core/streaming.js';
import { createEmbeddings } from './lib/embeddings.js';
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

/** `POST /chat/completions`. */
export class Completions extends APIResource {
  /**
   * Create a model response for the conversation (API reference: "Create chat completion").
   * With `stream: true` resolves to a `Stream<ChatCompletionChunk>`; otherwise to a `ChatCompletion`.
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
    return this._client.post('/chat/completions', { body, ...options, stream: body.stream ?? false }) as
      | APIPromise<ChatCompletion>
      | APIPromise<Stream<ChatCompletionChunk>>;
  }

  /** Stored chat completions (`GET /chat/completions`). */
  list(
    query: object = {},
    options?: RequestOptions,
  ): PagePromise<CursorPage<ChatCompletion>, ChatCompletion> {
    return this._client.getAPIList('/chat/completions', CursorPage<ChatCompletion>, { query, ...options });
  }
}

/** `chat.*` */
export class Chat extends APIResource {
  /** Chat completions. */
  readonly completions: Completions = new Completions(this._client);
}

/** `GET /models`, `GET /models/{model}`. */
export class Models extends APIResource {
  /** A model's details (API reference: "Retrieve model"). @throws NotFoundError for an unknown model id. */
  retrieve(model: string, options?: RequestOptions): APIPromise<Model> {
    return this._client.get(path`/models/${model}`, options);
  }

  /** The models available (API reference: "List models"); iterate with `for await`. */
  list(options?: RequestOptions): PagePromise<Page<Model>, Model> {
    return this._client.getAPIList('/models', Page<Model>, options);
  }
}

/** `POST /embeddings`. */
export class Embeddings extends APIResource {
  /** Embedding vectors for the input (API reference: "Create embeddings"). */
  create(body: EmbeddingCreateParams, options?: RequestOptions): APIPromise<CreateEmbeddingResponse> {
    return createEmbeddings(this._client, body, options);
  }
}
