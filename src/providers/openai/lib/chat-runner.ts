/**
 * `ChatCompletionRunner`: what `client.chat.completions.runTools(params)` returns without
 * `stream: true` (openai-node's class): the tool loop of `AbstractChatCompletionRunner` with
 * non-streaming completions; `content` is emitted once per assistant message with content.
 */
import type { ChatCompletionMessageParam } from '../resources/chat/completions.js';
import { AbstractChatCompletionRunner, type ChatCompletionsCreate } from './chat-runner-base.js';
import type {
  ChatCompletionRunnerEvents,
  ChatCompletionToolRunnerParams,
  RunnableFunctionWithParse,
  RunnerOptions,
} from './chat-types.js';

/** The runner of `client.chat.completions.runTools(params)`. */
export class ChatCompletionRunner<ParsedT = null> extends AbstractChatCompletionRunner<
  ChatCompletionRunnerEvents,
  ParsedT
> {
  /** Run the tool loop; listeners added right after this call see every event. */
  static runTools<ParsedT = null>(
    completions: ChatCompletionsCreate,
    params: ChatCompletionToolRunnerParams,
    options?: RunnerOptions,
  ): ChatCompletionRunner<ParsedT> {
    const runner = new ChatCompletionRunner<ParsedT>();
    runner._run(() => runner._runTools(completions, params as never, runner, options));
    return runner;
  }

  protected override _addMessage(message: ChatCompletionMessageParam, emit = true): void {
    super._addMessage(message, emit);
    if (message.role === 'assistant' && message.content) {
      this._emit('content', message.content as string);
    }
  }
}

/**
 * A `runTools()` tool whose `function` receives what `parse` made of the arguments (openai-node's
 * helper class: `{ type: 'function', function: input }`, typed so both agree).
 */
export class ParsingToolFunction<Args extends object> {
  type = 'function' as const;
  function: RunnableFunctionWithParse<Args>;

  constructor(input: RunnableFunctionWithParse<Args>) {
    this.function = input;
  }
}
