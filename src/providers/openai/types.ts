/**
 * OpenAI API types for chat completions, models and embeddings, following the OpenAI API reference
 * (https://platform.openai.com/docs/api-reference, schemas `CreateChatCompletionRequest`,
 * `CreateChatCompletionResponse`, `CreateChatCompletionStreamResponse`, `Model`, `CreateEmbeddingRequest`,
 * `CreateEmbeddingResponse` of the OpenAPI spec in shared/specs) and openai-node's type names.
 * Field names are snake_case, as on the wire.
 */

/** A text part of a message's content. */
export interface ChatCompletionContentPartText {
  type: 'text';
  text: string;
}
/** An image part (URL or base64 data URL). */
export interface ChatCompletionContentPartImage {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
/** An audio input part. */
export interface ChatCompletionContentPartInputAudio {
  type: 'input_audio';
  input_audio: { data: string; format: 'wav' | 'mp3' };
}
/** Any user content part. */
export type ChatCompletionContentPart =
  | ChatCompletionContentPartText
  | ChatCompletionContentPartImage
  | ChatCompletionContentPartInputAudio;

/** A function tool call made by the assistant. */
export interface ChatCompletionMessageToolCall {
  id: string;
  type: 'function';
  function: { name: string /** JSON text of the arguments. */; arguments: string };
}

/** `developer` message (replaces `system` for o-series models). */
export interface ChatCompletionDeveloperMessageParam {
  role: 'developer';
  content: string | ChatCompletionContentPartText[];
  name?: string;
}
/** `system` message. */
export interface ChatCompletionSystemMessageParam {
  role: 'system';
  content: string | ChatCompletionContentPartText[];
  name?: string;
}
/** `user` message. */
export interface ChatCompletionUserMessageParam {
  role: 'user';
  content: string | ChatCompletionContentPart[];
  name?: string;
}
/** `assistant` message (a previous turn). */
export interface ChatCompletionAssistantMessageParam {
  role: 'assistant';
  content?: string | ChatCompletionContentPartText[] | null;
  name?: string;
  refusal?: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
}
/** `tool` message: the result of a tool call. */
export interface ChatCompletionToolMessageParam {
  role: 'tool';
  content: string | ChatCompletionContentPartText[];
  tool_call_id: string;
}
/** Any input message. */
export type ChatCompletionMessageParam =
  | ChatCompletionDeveloperMessageParam
  | ChatCompletionSystemMessageParam
  | ChatCompletionUserMessageParam
  | ChatCompletionAssistantMessageParam
  | ChatCompletionToolMessageParam;

/** A function the model may call. */
export interface ChatCompletionTool {
  type: 'function';
  function: {
    name: string;
    description?: string;
    parameters?: Record<string, unknown>;
    strict?: boolean | null;
  };
}

/** Which tool the model must call, if any. */
export type ChatCompletionToolChoiceOption =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; function: { name: string } };

/** Options for streamed responses. */
export interface ChatCompletionStreamOptions {
  /** Send a last chunk with `usage` (and empty `choices`) before `[DONE]`. */
  include_usage?: boolean;
}

/** Body of `POST /chat/completions` (shared fields). */
export interface ChatCompletionCreateParamsBase {
  /** Model id, e.g. `gpt-4o-mini`. */
  model: string;
  /** The conversation so far. */
  messages: ChatCompletionMessageParam[];
  /** Stream the answer as server-sent events. */
  stream?: boolean | null;
  stream_options?: ChatCompletionStreamOptions | null;
  /** Upper bound of generated tokens (deprecated in favour of `max_completion_tokens`). */
  max_tokens?: number | null;
  /** Upper bound of generated tokens, including reasoning tokens. */
  max_completion_tokens?: number | null;
  /** Sampling temperature, 0 to 2. */
  temperature?: number | null;
  /** Nucleus sampling probability mass, 0 to 1. */
  top_p?: number | null;
  /** How many choices to generate. */
  n?: number | null;
  /** Up to 4 sequences where generation stops. */
  stop?: string | string[] | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  /** `{type:'text'}`, `{type:'json_object'}` or a JSON schema. */
  response_format?:
    | { type: 'text' }
    | { type: 'json_object' }
    | {
        type: 'json_schema';
        json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean | null };
      };
  seed?: number | null;
  tools?: ChatCompletionTool[];
  tool_choice?: ChatCompletionToolChoiceOption;
  parallel_tool_calls?: boolean;
  /** A stable identifier of your end user. */
  user?: string;
  reasoning_effort?: 'minimal' | 'low' | 'medium' | 'high' | null;
  metadata?: Record<string, string> | null;
  store?: boolean | null;
  service_tier?: 'auto' | 'default' | 'flex' | 'priority' | null;
}
/** Body for a non-streamed completion. */
export interface ChatCompletionCreateParamsNonStreaming extends ChatCompletionCreateParamsBase {
  stream?: false | null;
}
/** Body for a streamed completion. */
export interface ChatCompletionCreateParamsStreaming extends ChatCompletionCreateParamsBase {
  stream: true;
}
/** Either body. */
export type ChatCompletionCreateParams =
  | ChatCompletionCreateParamsNonStreaming
  | ChatCompletionCreateParamsStreaming;

/** Token counts of a request. */
export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number; audio_tokens?: number };
}

/** The assistant's message in a choice. */
export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
}

/** Why generation stopped. */
export type ChatCompletionFinishReason =
  | 'stop'
  | 'length'
  | 'tool_calls'
  | 'content_filter'
  | 'function_call';

/** A `chat.completion` object (response of a non-streamed create). */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  /** Unix time in seconds. */
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: ChatCompletionMessage;
    finish_reason: ChatCompletionFinishReason;
    logprobs: unknown | null;
  }>;
  usage?: CompletionUsage;
  system_fingerprint?: string;
  service_tier?: string | null;
}

/** A `chat.completion.chunk` object (one event of a streamed create). */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  /** Unix time in seconds. */
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'developer' | 'system' | 'user' | 'assistant' | 'tool';
      content?: string | null;
      refusal?: string | null;
      tool_calls?: Array<{
        index: number;
        id?: string;
        type?: 'function';
        function?: { name?: string; arguments?: string };
      }>;
    };
    finish_reason: ChatCompletionFinishReason | null;
    logprobs?: unknown | null;
  }>;
  /** Present on the last chunk when `stream_options.include_usage` is set. */
  usage?: CompletionUsage | null;
  system_fingerprint?: string;
  service_tier?: string | null;
}

/** A `model` object. */
export interface Model {
  id: string;
  object: 'model';
  /** Unix time in seconds. */
  created: number;
  owned_by: string;
}

/** Body of `POST /embeddings`. */
export interface EmbeddingCreateParams {
  /** Text(s) or token arrays to embed. */
  input: string | string[] | number[] | number[][];
  /** Model id, e.g. `text-embedding-3-small`. */
  model: string;
  /** Output dimensions (text-embedding-3 models). */
  dimensions?: number;
  /** `float` (default) or `base64` (little-endian float32). */
  encoding_format?: 'float' | 'base64';
  user?: string;
}

/** One vector. */
export interface Embedding {
  object: 'embedding';
  index: number;
  /** The vector (as returned with `encoding_format: 'float'`). */
  embedding: number[];
}

/** Response of `POST /embeddings`. */
export interface CreateEmbeddingResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}
