/**
 * `AbstractChatCompletionRunner`: what `ChatCompletionStream`, `ChatCompletionRunner` and
 * `ChatCompletionStreamingRunner` share, with openai-node's behaviour: the conversation (`messages`:
 * the request's, then each message received or made by a tool), the completions received, the final
 * values (`finalChatCompletion()`, `finalContent()`, `finalMessage()`, `finalFunctionToolCall()`,
 * `finalFunctionToolCallResult()`, `totalUsage()`, `allChatCompletions()`) and their events before
 * `end`, and the tool loop of `runTools()` (`_runTools`): each completion's function tool calls are
 * run (in parallel, or one by one with `parallel_tool_calls: false` or a named `tool_choice`), their
 * results sent back as `tool` messages, until a completion has no tool call or `maxChatCompletions`
 * (default 10) completions were made. A tool's `parse` error goes back to the model as the tool
 * message; an error thrown by a tool function ends the run with that error (after the other tools of
 * the same completion settled).
 * Reference: https://platform.openai.com/docs/guides/function-calling
 */
import { randomUUID } from 'node:crypto';
import type { RequestOptions } from '../../../core/client.js';
import { AiwireError } from '../../../core/errors.js';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from '../resources/chat/completions.js';
import type { CompletionUsage } from '../resources/completions.js';
import type {
  AbstractChatCompletionRunnerEvents,
  ChatCompletionMessageFunctionToolCallFunction,
  ParsedChatCompletion,
  ParsedChatCompletionMessage,
  RunnableFunctionWithParse,
  RunnerOptions,
} from './chat-types.js';
import { type EventMap, EventStream } from './event-stream.js';
import { isAutoParsableTool, type ParseParams, parseChatCompletion } from './parser.js';

const DEFAULT_MAX_CHAT_COMPLETIONS = 10;

/** The `create` of `client.chat.completions` (the resource itself is passed). */
export interface ChatCompletionsCreate {
  // biome-ignore lint/suspicious/noExplicitAny: the generated overloads of create()
  create(body: any, options?: RequestOptions): PromiseLike<any>;
}

type Message = ChatCompletionMessageParam & Record<string, unknown>;
type AnyToolCall = {
  type: string;
  id: string;
  function?: { name: string; arguments: string };
  custom?: { input: string; name: string };
};

const isAssistantMessage = (m: unknown): m is ChatCompletionMessage & Record<string, unknown> =>
  (m as { role?: unknown } | null | undefined)?.role === 'assistant';
const isToolMessage = (m: unknown): m is { role: 'tool'; content: unknown; tool_call_id: string } =>
  (m as { role?: unknown } | null | undefined)?.role === 'tool';

/** Tool calls some OpenAI-compatible servers send without an id get `call_<uuid>`. */
function normalizeToolCallIds(completion: ChatCompletion): void {
  for (const choice of completion.choices) {
    for (const call of (choice.message.tool_calls ?? []) as AnyToolCall[]) {
      if (!call.id) call.id = `call_${randomUUID()}`;
    }
  }
}

/** An assistant message as a request message: only the fields a request takes. */
function toRequestMessage(message: Message): ChatCompletionMessageParam {
  if (!isAssistantMessage(message)) return message;
  const m = message as Record<string, unknown> & {
    audio?: { id: string } | null;
    tool_calls?: AnyToolCall[];
  };
  const out: Record<string, unknown> = { role: 'assistant' };
  if (m.audio != null) out.audio = { id: m.audio.id };
  if (m.content !== undefined) out.content = m.content;
  if (m.function_call != null) out.function_call = m.function_call;
  if (m.name !== undefined) out.name = m.name;
  if (m.refusal != null) out.refusal = m.refusal;
  if (m.tool_calls !== undefined) {
    out.tool_calls = m.tool_calls.map((call) =>
      call.type === 'custom'
        ? { id: call.id, type: call.type, custom: { input: call.custom?.input, name: call.custom?.name } }
        : {
            id: call.id,
            type: call.type,
            function: { arguments: call.function?.arguments, name: call.function?.name },
          },
    );
  }
  return out as ChatCompletionMessageParam;
}

/** The shared base of the stream and the runners. */
export class AbstractChatCompletionRunner<
  Events extends EventMap & AbstractChatCompletionRunnerEvents,
  ParsedT = null,
> extends EventStream<Events> {
  protected _chatCompletions: ChatCompletion[] = [];
  /** The conversation: the request's messages, then each message received or made by a tool. */
  messages: ChatCompletionMessageParam[] = [];
  /** @internal Marks the parsed type of the final message (types only). */
  declare readonly __parsed?: ParsedT;

  /** @internal Record a completion: `chatCompletion`, then its first choice's message. */
  protected _addChatCompletion(completion: ChatCompletion): ChatCompletion {
    normalizeToolCallIds(completion);
    this._chatCompletions.push(completion);
    this._emit('chatCompletion', completion);
    const message = completion.choices[0]?.message;
    if (message) this._addMessage(message as unknown as ChatCompletionMessageParam);
    return completion;
  }

  /** @internal Add a message; with `emit`: `message`, then `functionToolCallResult` or `functionToolCall`s. */
  protected _addMessage(message: ChatCompletionMessageParam, emit = true): void {
    if (!('content' in message)) (message as Record<string, unknown>).content = null;
    this.messages.push(message);
    if (!emit) return;
    this._emit('message', message);
    if (isToolMessage(message) && message.content) {
      this._emit('functionToolCallResult', message.content);
    } else if (isAssistantMessage(message) && message.tool_calls) {
      for (const call of message.tool_calls as AnyToolCall[]) {
        if (call.type === 'function') this._emit('functionToolCall', call.function);
      }
    }
  }

  /**
   * The last completion received.
   * @throws (rejects) the run's error, or `OpenAIError` when no completion was received.
   */
  async finalChatCompletion(): Promise<ParsedChatCompletion<ParsedT>> {
    await this.done();
    const completion = this._chatCompletions[this._chatCompletions.length - 1];
    if (!completion) throw new AiwireError('stream ended without producing a ChatCompletion');
    return completion as unknown as ParsedChatCompletion<ParsedT>;
  }

  /** The content of the last assistant message (null when it has none). @throws (rejects) as `finalMessage()`. */
  async finalContent(): Promise<string | null> {
    await this.done();
    return this.#finalContent();
  }

  /**
   * The last assistant message (`content` and `refusal` null when absent).
   * @throws (rejects) the run's error, or `OpenAIError` when there is no assistant message.
   */
  async finalMessage(): Promise<ParsedChatCompletionMessage<ParsedT>> {
    await this.done();
    return this.#finalMessage();
  }

  /** The function of the last function tool call of the conversation, or undefined. */
  async finalFunctionToolCall(): Promise<ChatCompletionMessageFunctionToolCallFunction | undefined> {
    await this.done();
    return this.#finalFunctionToolCall();
  }

  /** The content of the last tool message answering a function tool call, or undefined. */
  async finalFunctionToolCallResult(): Promise<string | undefined> {
    await this.done();
    return this.#finalFunctionToolCallResult();
  }

  /** The usage of every completion added up (`completion_tokens`, `prompt_tokens`, `total_tokens`). */
  async totalUsage(): Promise<CompletionUsage> {
    await this.done();
    return this.#totalUsage();
  }

  /**
   * The conversation so far (a copy of `messages`: the request's, the assistant's, the tools'). Not in
   * openai-node 6, which has only the `messages` property.
   */
  allMessages(): ChatCompletionMessageParam[] {
    return [...this.messages];
  }

  /** Every completion received, in order. */
  allChatCompletions(): ParsedChatCompletion<ParsedT>[] {
    return [...this._chatCompletions] as unknown as ParsedChatCompletion<ParsedT>[];
  }

  #finalContent(): string | null {
    return (this.#finalMessage().content as string | null) ?? null;
  }

  #finalMessage(): ParsedChatCompletionMessage<ParsedT> {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const message = this.messages[i];
      if (isAssistantMessage(message)) {
        return { ...message, content: message.content ?? null, refusal: message.refusal ?? null } as never;
      }
    }
    throw new AiwireError('stream ended without producing a ChatCompletionMessage with role=assistant');
  }

  #finalFunctionToolCall(): ChatCompletionMessageFunctionToolCallFunction | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const message = this.messages[i];
      if (isAssistantMessage(message) && message?.tool_calls?.length) {
        for (let j = message.tool_calls.length - 1; j >= 0; j--) {
          const call = message.tool_calls[j] as AnyToolCall | undefined;
          if (call?.type === 'function')
            return call.function as ChatCompletionMessageFunctionToolCallFunction;
        }
      }
    }
    return undefined;
  }

  #finalFunctionToolCallResult(): string | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const message = this.messages[i];
      if (
        isToolMessage(message) &&
        message.content != null &&
        typeof message.content === 'string' &&
        this.messages.some(
          (x) =>
            x.role === 'assistant' &&
            (x.tool_calls as AnyToolCall[] | undefined)?.some(
              (y) => y.type === 'function' && y.id === message.tool_call_id,
            ),
        )
      ) {
        return message.content;
      }
    }
    return undefined;
  }

  #totalUsage(): CompletionUsage {
    const total = { completion_tokens: 0, prompt_tokens: 0, total_tokens: 0 };
    for (const { usage } of this._chatCompletions) {
      if (usage) {
        total.completion_tokens += usage.completion_tokens;
        total.prompt_tokens += usage.prompt_tokens;
        total.total_tokens += usage.total_tokens;
      }
    }
    return total;
  }

  /** @internal `finalChatCompletion`, `finalMessage`, `finalContent`, `finalFunctionToolCall(Result)`, `totalUsage`. */
  protected override _emitFinal(): void {
    const emit = this._emit.bind(this) as (event: string, ...args: unknown[]) => void;
    const completion = this._chatCompletions[this._chatCompletions.length - 1];
    if (completion) emit('finalChatCompletion', completion);
    const finalMessage = this.#finalMessage();
    if (finalMessage) emit('finalMessage', finalMessage);
    const finalContent = this.#finalContent();
    if (finalContent) emit('finalContent', finalContent);
    const finalFunctionCall = this.#finalFunctionToolCall();
    if (finalFunctionCall) emit('finalFunctionToolCall', finalFunctionCall);
    const finalFunctionCallResult = this.#finalFunctionToolCallResult();
    if (finalFunctionCallResult != null) emit('finalFunctionToolCallResult', finalFunctionCallResult);
    if (this._chatCompletions.some((c) => c.usage)) emit('totalUsage', this.#totalUsage());
  }

  /** @internal One non-streaming completion, parsed (`n > 1` refused). */
  protected async _createChatCompletion(
    completions: ChatCompletionsCreate,
    params: ChatCompletionCreateParamsBase,
    options?: RequestOptions,
  ): Promise<ChatCompletion> {
    this._listenForAbort(options?.signal);
    if (params.n != null && params.n > 1) {
      throw new AiwireError(
        'ChatCompletion convenience helpers only support n=1 at this time. To use n>1, please use chat.completions.create() directly.',
      );
    }
    const completion = await completions.create(
      { ...params, stream: false },
      { ...options, signal: this.controller.signal },
    );
    this._connected();
    return this._addChatCompletion(
      parseChatCompletion(completion, params as ParseParams) as unknown as ChatCompletion,
    );
  }

  /** @internal The request's messages (not emitted), then one completion. */
  protected async _runChatCompletion(
    completions: ChatCompletionsCreate,
    params: ChatCompletionCreateParamsBase,
    options?: RequestOptions,
  ): Promise<ChatCompletion> {
    for (const message of params.messages) this._addMessage(message, false);
    return await this._createChatCompletion(completions, params, options);
  }

  /** @internal The tool loop of `runTools()` (see the module comment). */
  protected async _runTools(
    completions: ChatCompletionsCreate,
    params: ChatCompletionCreateParamsBase & { tools: readonly unknown[]; toolContext?: unknown },
    runner: unknown,
    options?: RunnerOptions,
  ): Promise<void> {
    const role = 'tool' as const;
    const { tool_choice = 'auto', stream: _stream, toolContext, ...restParams } = params;
    const singleFunctionToCall =
      typeof tool_choice !== 'string' && tool_choice.type === 'function' && tool_choice?.function?.name;
    const {
      maxChatCompletions = DEFAULT_MAX_CHAT_COMPLETIONS,
      afterCompletion,
      ...requestOptions
    } = options || {};

    type Fn = RunnableFunctionWithParse<object> & {
      name?: string;
      function: ((...a: unknown[]) => unknown) & { name: string };
    };
    const inputTools = params.tools.map((tool) => {
      if (isAutoParsableTool(tool)) {
        if (!tool.$callback)
          throw new AiwireError('Tool given to `.runTools()` that does not have an associated function');
        return {
          type: 'function',
          function: {
            function: tool.$callback,
            name: tool.function.name,
            description: tool.function.description || '',
            parameters: tool.function.parameters,
            parse: tool.$parseRaw,
            strict: true,
          },
        };
      }
      return tool as { type: string; function: Fn };
    }) as { type: string; function: Fn }[];

    const functionsByName: Record<string, Fn> = {};
    for (const f of inputTools) {
      if (f.type === 'function') functionsByName[f.function.name || f.function.function.name] = f.function;
    }
    const tools =
      'tools' in params
        ? inputTools.map((t) =>
            t.type === 'function'
              ? {
                  type: 'function',
                  function: {
                    name: t.function.name || t.function.function.name,
                    parameters: t.function.parameters,
                    description: t.function.description,
                    strict: t.function.strict,
                  },
                }
              : t,
          )
        : undefined;

    for (const message of params.messages) this._addMessage(message, false);

    const runToolCall = async (
      toolCall: ChatCompletionMessageToolCall | AnyToolCall,
    ): Promise<{ message: ChatCompletionMessageParam | undefined; functionCalled: boolean }> => {
      if (toolCall.type !== 'function') return { message: undefined, functionCalled: false };
      const tool_call_id = toolCall.id;
      const { name, arguments: args } = toolCall.function as { name: string; arguments: string };
      const fn = functionsByName[name];
      if (!fn) {
        const content = `Invalid tool_call: ${JSON.stringify(name)}. Available options are: ${Object.keys(
          functionsByName,
        )
          .map((n) => JSON.stringify(n))
          .join(', ')}. Please try again`;
        return { message: { role, tool_call_id, content }, functionCalled: false };
      }
      if (singleFunctionToCall && singleFunctionToCall !== name) {
        const content = `Invalid tool_call: ${JSON.stringify(name)}. ${JSON.stringify(singleFunctionToCall)} requested. Please try again`;
        return { message: { role, tool_call_id, content }, functionCalled: false };
      }
      let rawContent: unknown;
      if (typeof fn.parse === 'function') {
        let parsed: unknown;
        try {
          parsed = await fn.parse(args);
        } catch (error) {
          const content = error instanceof Error ? error.message : String(error);
          return { message: { role, tool_call_id, content }, functionCalled: false };
        }
        rawContent = await fn.function(parsed, runner, toolContext);
      } else {
        rawContent = await fn.function(args, runner, toolContext);
      }
      const content =
        typeof rawContent === 'string'
          ? rawContent
          : rawContent === undefined
            ? 'undefined'
            : JSON.stringify(rawContent);
      return { message: { role, tool_call_id, content }, functionCalled: true };
    };

    for (let i = 0; i < maxChatCompletions; ++i) {
      const completion = await this._createChatCompletion(
        completions,
        {
          ...restParams,
          tool_choice,
          tools,
          messages: (this.messages as Message[]).map(toRequestMessage),
        } as ChatCompletionCreateParamsBase,
        requestOptions,
      );
      const message = completion.choices[0]?.message;
      if (!message) throw new AiwireError('missing message in ChatCompletion response');
      if (!message.tool_calls?.length) {
        await afterCompletion?.(completion, runner);
        return;
      }
      if (singleFunctionToCall || params.parallel_tool_calls === false) {
        for (const call of message.tool_calls) {
          const result = await runToolCall(call);
          if (result.message) this._addMessage(result.message);
          if (singleFunctionToCall && result.functionCalled) {
            await afterCompletion?.(completion, runner);
            return;
          }
        }
      } else {
        const results = await Promise.allSettled(message.tool_calls.map(runToolCall));
        // every tool settles before an error surfaces; results go back in the calls' order
        for (const result of results) if (result.status === 'rejected') throw result.reason;
        for (const result of results) {
          if (result.status === 'fulfilled' && result.value.message) this._addMessage(result.value.message);
        }
      }
      await afterCompletion?.(completion, runner);
    }
  }
}
