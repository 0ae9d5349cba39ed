/**
 * Types of the Chat Completions helpers (`parse()`, `stream()`, `runTools()`) under openai-node's
 * names: parsed completions, auto-parseable formats and tools, the stream's and runners' events,
 * runnable tool functions and the runners' parameters.
 */
import type { RequestOptions } from '../../../core/client.js';
import type { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import type * as S from '../generated/schemas.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTokenLogprob,
  ChatCompletionTool,
} from '../resources/chat/completions.js';
import type { CompletionUsage } from '../resources/completions.js';

/** A `response_format` that `parse()` / `stream()` parse into `ParsedT` (made by `zodResponseFormat`). */
export type AutoParseableResponseFormat<ParsedT> = S.ResponseFormatJsonSchema & {
  __output: ParsedT;
  $brand: 'auto-parseable-response-format';
  $parseRaw(content: string): ParsedT;
};

/** A Responses API `text.format` that `responses.parse()` parses into `ParsedT` (made by `zodTextFormat`). */
export type AutoParseableTextFormat<ParsedT> = S.TextResponseFormatJsonSchema & {
  __output: ParsedT;
  $brand: 'auto-parseable-response-format';
  $parseRaw(content: string): ParsedT;
};

/** A function tool whose arguments are parsed into `ParsedT` (made by `zodFunction`). */
export type AutoParseableTool<ParsedT, HasFunction = true> = ChatCompletionTool & {
  __arguments: ParsedT;
  __name: string;
  __hasFunction: HasFunction;
  $brand: 'auto-parseable-tool';
  $callback: ((args: ParsedT) => unknown) | undefined;
  $parseRaw(args: string): ParsedT;
};

/** A Responses API function tool whose arguments are parsed into `ParsedT` (made by `zodResponsesFunction`). */
export type AutoParseableResponseTool<ParsedT, HasFunction = true> = S.FunctionTool & {
  __arguments: ParsedT;
  __name: string;
  __hasFunction: HasFunction;
  $brand: 'auto-parseable-tool';
  $callback: ((args: ParsedT) => unknown) | undefined;
  $parseRaw(args: string): ParsedT;
};

/** A tool call's function with its parsed arguments. */
export interface ParsedFunction {
  name: string;
  arguments: string;
  parsed_arguments?: unknown;
}

/** A function tool call with `function.parsed_arguments`. */
export type ParsedFunctionToolCall = ChatCompletionMessageToolCall & { function: ParsedFunction };

/** A message with `parsed` (the parsed content, or null) and parsed tool calls. */
export type ParsedChatCompletionMessage<ParsedT> = Omit<ChatCompletionMessage, 'tool_calls'> & {
  parsed: ParsedT | null;
  tool_calls?: ParsedFunctionToolCall[];
};

/** A choice whose message is parsed. */
export type ParsedChoice<ParsedT> = Omit<ChatCompletion['choices'][number], 'message'> & {
  message: ParsedChatCompletionMessage<ParsedT>;
};

/** A completion whose choices are parsed. */
export type ParsedChatCompletion<ParsedT> = Omit<ChatCompletion, 'choices'> & {
  choices: ParsedChoice<ParsedT>[];
};

/** The parsed type a request's `response_format` gives (null when it is not auto-parseable). */
export type ExtractParsedContentFromParams<Params> = Params extends {
  response_format: AutoParseableResponseFormat<infer P>;
}
  ? P
  : null;

/** `chat.completions.parse(body)`'s parameters. */
export type ChatCompletionParseParams = ChatCompletionCreateParamsBase & { stream?: false | null };

/** `chat.completions.stream(body)`'s parameters (`stream: true` is sent whatever is given). */
export type ChatCompletionStreamParams = ChatCompletionCreateParamsBase & { stream?: true };

/** The completion accumulated from the chunks so far (`chunk` listeners' second argument). */
export interface ChatCompletionSnapshot {
  id: string;
  choices: ChatCompletionSnapshotChoice[];
  created: number;
  model: string;
  system_fingerprint?: string;
  [key: string]: unknown;
}

/** One choice of a {@link ChatCompletionSnapshot}. */
export interface ChatCompletionSnapshotChoice {
  message: {
    content?: string | null;
    refusal?: string | null;
    parsed?: unknown;
    role?: 'assistant' | 'developer' | 'system' | 'user' | 'tool';
    tool_calls?: {
      index?: number;
      id?: string;
      type?: 'function';
      function?: ParsedFunction;
      [key: string]: unknown;
    }[];
    function_call?: { name?: string; arguments?: string };
    audio?: { id?: string; data?: string; transcript?: string; expires_at?: number };
    [key: string]: unknown;
  };
  finish_reason: ChatCompletion['choices'][number]['finish_reason'] | null;
  index: number;
  logprobs: {
    content: ChatCompletionTokenLogprob[] | null;
    refusal: ChatCompletionTokenLogprob[] | null;
  } | null;
  [key: string]: unknown;
}

/** `content.delta` / `content.done` and the other typed events' payloads. */
export interface ContentDeltaEvent<ParsedT> {
  delta: string;
  snapshot: string;
  parsed: unknown | null;
  /** Not sent; the type of `parsed` once complete. */
  __parsed?: ParsedT;
}
export interface ContentDoneEvent<ParsedT = null> {
  content: string;
  parsed: ParsedT | null;
}
export interface RefusalDeltaEvent {
  delta: string;
  snapshot: string;
}
export interface RefusalDoneEvent {
  refusal: string;
}
export interface FunctionToolCallArgumentsDeltaEvent {
  name: string;
  index: number;
  arguments: string;
  parsed_arguments: unknown;
  arguments_delta: string;
}
export interface FunctionToolCallArgumentsDoneEvent {
  name: string;
  index: number;
  arguments: string;
  parsed_arguments: unknown;
}
export interface LogProbsContentDeltaEvent {
  content: ChatCompletionTokenLogprob[];
  snapshot: ChatCompletionTokenLogprob[];
}
export interface LogProbsContentDoneEvent {
  content: ChatCompletionTokenLogprob[];
}
export interface LogProbsRefusalDeltaEvent {
  refusal: ChatCompletionTokenLogprob[];
  snapshot: ChatCompletionTokenLogprob[];
}
export interface LogProbsRefusalDoneEvent {
  refusal: ChatCompletionTokenLogprob[];
}

/** A tool call's function as `functionToolCall` / `finalFunctionToolCall` give it. */
export type ChatCompletionMessageFunctionToolCallFunction = ChatCompletionMessageToolCall['function'];

/** The events of every runner and stream (openai-node's `AbstractChatCompletionRunnerEvents`). */
export interface AbstractChatCompletionRunnerEvents {
  connect: () => void;
  functionToolCall: (functionCall: ChatCompletionMessageFunctionToolCallFunction) => void;
  message: (message: ChatCompletionMessageParam) => void;
  chatCompletion: (completion: ChatCompletion) => void;
  finalContent: (contentSnapshot: string) => void;
  finalMessage: (message: ChatCompletionMessageParam) => void;
  finalChatCompletion: (completion: ChatCompletion) => void;
  finalFunctionToolCall: (functionCall: ChatCompletionMessageFunctionToolCallFunction) => void;
  functionToolCallResult: (content: string) => void;
  finalFunctionToolCallResult: (content: string) => void;
  totalUsage: (usage: CompletionUsage) => void;
  error: (error: AiwireError) => void;
  abort: (error: APIUserAbortError) => void;
  end: () => void;
}

/** `ChatCompletionRunner`'s events (`content` once per assistant message). */
export interface ChatCompletionRunnerEvents extends AbstractChatCompletionRunnerEvents {
  content: (content: string) => void;
}

/** `ChatCompletionStream`'s events. */
export interface ChatCompletionStreamEvents<ParsedT = null> extends AbstractChatCompletionRunnerEvents {
  content: (contentDelta: string, contentSnapshot: string) => void;
  chunk: (chunk: ChatCompletionChunk, snapshot: ChatCompletionSnapshot) => void;
  'content.delta': (props: ContentDeltaEvent<ParsedT>) => void;
  'content.done': (props: ContentDoneEvent<ParsedT>) => void;
  'refusal.delta': (props: RefusalDeltaEvent) => void;
  'refusal.done': (props: RefusalDoneEvent) => void;
  'tool_calls.function.arguments.delta': (props: FunctionToolCallArgumentsDeltaEvent) => void;
  'tool_calls.function.arguments.done': (props: FunctionToolCallArgumentsDoneEvent) => void;
  'logprobs.content.delta': (props: LogProbsContentDeltaEvent) => void;
  'logprobs.content.done': (props: LogProbsContentDoneEvent) => void;
  'logprobs.refusal.delta': (props: LogProbsRefusalDeltaEvent) => void;
  'logprobs.refusal.done': (props: LogProbsRefusalDoneEvent) => void;
}

/** `ChatCompletionStreamingRunner`'s events. */
export type ChatCompletionStreamingRunnerEvents = ChatCompletionStreamEvents<null>;

/** Options of `runTools()` besides the request options. */
export interface RunnerOptions extends RequestOptions {
  /** How many chat completions the loop makes at most (default 10). */
  maxChatCompletions?: number;
  /** Called after each completion (and its tool calls) with the runner. */
  afterCompletion?: (completion: ChatCompletion, runner: unknown) => void | Promise<void>;
}

/** A tool function that receives the raw JSON arguments string. */
export interface RunnableFunctionWithoutParse<Context = unknown> {
  function: (args: string, runner: unknown, context?: Context) => unknown;
  parameters: Record<string, unknown>;
  description?: string;
  name?: string;
  strict?: boolean;
}

/** A tool function that receives what `parse` made of the arguments (a parse error goes back to the model). */
export interface RunnableFunctionWithParse<Args extends object, Context = unknown> {
  function: (args: Args, runner: unknown, context?: Context) => unknown;
  parse: (input: string) => Args | Promise<Args>;
  parameters: Record<string, unknown>;
  description?: string;
  name?: string;
  strict?: boolean;
}

export type RunnableFunction<Args extends object | string, Context = unknown> = Args extends string
  ? RunnableFunctionWithoutParse<Context>
  : Args extends object
    ? RunnableFunctionWithParse<Args, Context>
    : never;

/** A `runTools()` tool: `{ type: 'function', function: { function, parameters, parse?, … } }`. */
export type RunnableToolFunction<Args extends object | string, Context = unknown> = Args extends string
  ? RunnableToolFunctionWithoutParse<Context>
  : Args extends object
    ? RunnableToolFunctionWithParse<Args, Context>
    : never;
export interface RunnableToolFunctionWithoutParse<Context = unknown> {
  type: 'function';
  function: RunnableFunctionWithoutParse<Context>;
}
export interface RunnableToolFunctionWithParse<Args extends object, Context = unknown> {
  type: 'function';
  function: RunnableFunctionWithParse<Args, Context>;
}

export type BaseFunctionsArgs = readonly (object | string)[];
export type RunnableTools<FunctionsArgs extends BaseFunctionsArgs> = {
  [Index in keyof FunctionsArgs]: Index extends number
    ? RunnableToolFunction<FunctionsArgs[Index] & (object | string)>
    : FunctionsArgs[Index];
};

/** `runTools()`'s parameters: the request, with tools that carry their functions (or `zodFunction` tools). */
export type ChatCompletionToolRunnerParams<FunctionsArgs extends BaseFunctionsArgs = BaseFunctionsArgs> =
  Omit<ChatCompletionCreateParamsBase, 'tools' | 'stream'> & {
    // biome-ignore lint/suspicious/noExplicitAny: any zodFunction / parseable tool
    tools: RunnableTools<FunctionsArgs> | AutoParseableTool<any, true>[] | readonly unknown[];
    stream?: false | null;
    /** Passed to every tool function as its third argument. */
    toolContext?: unknown;
  };

/** `runTools({ …, stream: true })`'s parameters. */
export type ChatCompletionStreamingToolRunnerParams<
  FunctionsArgs extends BaseFunctionsArgs = BaseFunctionsArgs,
> = Omit<ChatCompletionToolRunnerParams<FunctionsArgs>, 'stream'> & { stream: true };
