/**
 * Auto-parsing of Chat Completions as openai-node does it: a `response_format` made by
 * `makeParseableResponseFormat` (e.g. `zodResponseFormat`) parses `message.content` into
 * `message.parsed`; a tool made by `makeParseableTool` (e.g. `zodFunction`), or any function tool with
 * `strict: true`, parses `tool_calls[].function.arguments` into `parsed_arguments`. The brands are
 * non-enumerable properties, so the request body is the plain `response_format` / `tools` the API
 * expects. A `finish_reason` of `length` or `content_filter` throws `LengthFinishReasonError` /
 * `ContentFilterFinishReasonError` (nothing complete to parse).
 * Reference: https://platform.openai.com/docs/guides/structured-outputs
 */
import { AiwireError } from '../../../core/errors.js';
import type { ChatCompletion } from '../resources/chat/completions.js';
import type {
  AutoParseableResponseFormat,
  AutoParseableTextFormat,
  AutoParseableTool,
  ParsedChatCompletion,
  ParsedFunctionToolCall,
} from './chat-types.js';
import { ContentFilterFinishReasonError, LengthFinishReasonError } from './errors.js';

/** The request fields parsing looks at. */
export interface ParseParams {
  response_format?: unknown;
  tools?: readonly unknown[] | null | undefined;
}

type FunctionToolLike = { type: 'function'; function: { name: string; strict?: boolean | null } };
type ToolCallLike = { type: string; id?: string; function: { name: string; arguments: string } };

/** True for a Chat Completions function tool (`{ type: 'function', function: {…} }`). */
export function isChatCompletionFunctionTool(tool: unknown): tool is FunctionToolLike {
  return (
    tool !== undefined &&
    tool !== null &&
    'function' in (tool as object) &&
    !!(tool as FunctionToolLike).function
  );
}

function brand<T extends object>(obj: T, props: Record<string, unknown>): T {
  for (const [key, value] of Object.entries(props)) {
    Object.defineProperty(obj, key, { value, enumerable: false });
  }
  return obj;
}

/** A `response_format` whose content `parse()` / `stream()` / `runTools()` parse with `parser`. */
export function makeParseableResponseFormat<ParsedT>(
  response_format: { type: 'json_schema'; json_schema: object },
  parser: (content: string) => ParsedT,
): AutoParseableResponseFormat<ParsedT> {
  const obj = { ...response_format };
  return brand(obj, { $brand: 'auto-parseable-response-format', $parseRaw: parser }) as never;
}

/** A Responses API `text.format` whose output text `responses.parse()` parses with `parser`. */
export function makeParseableTextFormat<ParsedT>(
  format: { type: 'json_schema'; name: string; schema?: object },
  parser: (content: string) => ParsedT,
): AutoParseableTextFormat<ParsedT> {
  const obj = { ...format };
  return brand(obj, { $brand: 'auto-parseable-response-format', $parseRaw: parser }) as never;
}

/** True for a format made by `makeParseableResponseFormat` / `makeParseableTextFormat`. */
export function isAutoParsableResponseFormat<ParsedT>(
  format: unknown,
): format is AutoParseableResponseFormat<ParsedT> {
  return (format as { $brand?: unknown } | null | undefined)?.$brand === 'auto-parseable-response-format';
}

/** A function tool whose arguments are parsed with `parser` (and, in `runTools()`, passed to `callback`). */
export function makeParseableTool<ParsedT>(
  tool: { type: 'function'; function: object },
  {
    parser,
    callback,
  }: { parser: (args: string) => ParsedT; callback: ((args: ParsedT) => unknown) | undefined },
): AutoParseableTool<ParsedT> {
  const obj = { ...tool };
  return brand(obj, { $brand: 'auto-parseable-tool', $parseRaw: parser, $callback: callback }) as never;
}

/** True for a tool made by `makeParseableTool` (or the Responses API's `makeParseableResponseTool`). */
export function isAutoParsableTool(tool: unknown): tool is AutoParseableTool<unknown> {
  return (tool as { $brand?: unknown } | null | undefined)?.$brand === 'auto-parseable-tool';
}

/**
 * `completion` with `message.parsed` (null) on every choice, or parsed as {@link parseChatCompletion}
 * when `params` has an auto-parseable format or a strict tool.
 */
export function maybeParseChatCompletion<ParsedT>(
  completion: ChatCompletion,
  params: ParseParams | null | undefined,
): ParsedChatCompletion<ParsedT> {
  if (!params || !hasAutoParseableInput(params)) {
    return {
      ...completion,
      choices: completion.choices.map((choice) => {
        assertToolCallsAreChatCompletionFunctionToolCalls(choice.message.tool_calls);
        return {
          ...choice,
          message: {
            ...choice.message,
            parsed: null,
            ...(choice.message.tool_calls ? { tool_calls: choice.message.tool_calls } : undefined),
          },
        };
      }),
    } as ParsedChatCompletion<ParsedT>;
  }
  return parseChatCompletion(completion, params);
}

/**
 * Parse every choice: `message.parsed` from the content (null when there is none or a refusal), and
 * `parsed_arguments` on each tool call.
 * @throws LengthFinishReasonError, ContentFilterFinishReasonError by `finish_reason`; `OpenAIError` for
 *   a tool call that is not a function call; whatever the parser throws (e.g. a zod error).
 */
export function parseChatCompletion<ParsedT>(
  completion: ChatCompletion,
  params: ParseParams,
): ParsedChatCompletion<ParsedT> {
  const choices = completion.choices.map((choice) => {
    if (choice.finish_reason === 'length') throw new LengthFinishReasonError();
    if (choice.finish_reason === 'content_filter') throw new ContentFilterFinishReasonError();
    assertToolCallsAreChatCompletionFunctionToolCalls(choice.message.tool_calls);
    const toolCalls = choice.message.tool_calls as ToolCallLike[] | undefined;
    return {
      ...choice,
      message: {
        ...choice.message,
        ...(toolCalls ? { tool_calls: toolCalls.map((call) => parseToolCall(params, call)) } : undefined),
        parsed:
          choice.message.content && !choice.message.refusal
            ? parseResponseFormat(params, choice.message.content)
            : null,
      },
    };
  });
  return { ...completion, choices } as ParsedChatCompletion<ParsedT>;
}

function parseResponseFormat(params: ParseParams, content: string): unknown {
  const format = params.response_format as { type?: string; $parseRaw?: (c: string) => unknown } | undefined;
  if (format?.type !== 'json_schema') return null;
  if ('$parseRaw' in format) return (format.$parseRaw as (c: string) => unknown)(content);
  return JSON.parse(content);
}

function findFunctionTool(
  params: ParseParams | null | undefined,
  name: string,
): FunctionToolLike | undefined {
  return params?.tools?.find(
    (tool): tool is FunctionToolLike => isChatCompletionFunctionTool(tool) && tool.function?.name === name,
  );
}

/** The arguments parsed as the tool named by the call asks (its parser, `JSON.parse` if strict, else null). */
export function parseToolArguments(
  params: ParseParams | null | undefined,
  name: string,
  args: string,
): unknown {
  const tool = findFunctionTool(params, name);
  if (isAutoParsableTool(tool)) return tool.$parseRaw(args);
  return tool?.function.strict ? JSON.parse(args) : null;
}

function parseToolCall(params: ParseParams, call: ToolCallLike): ParsedFunctionToolCall {
  return {
    ...call,
    function: {
      ...call.function,
      parsed_arguments: parseToolArguments(params, call.function.name, call.function.arguments),
    },
  } as ParsedFunctionToolCall;
}

/** True when a streamed tool call's arguments get partial `parsed_arguments` (auto-parseable or strict tool). */
export function shouldParseToolCall(
  params: ParseParams | null | undefined,
  call: { function: { name: string } },
): boolean {
  if (!params?.tools) return false;
  const tool = findFunctionTool(params, call.function.name);
  return isChatCompletionFunctionTool(tool) && (isAutoParsableTool(tool) || tool.function.strict || false);
}

/** True when the request asks for parsing: an auto-parseable `response_format`, or a strict / auto-parseable tool. */
export function hasAutoParseableInput(params: ParseParams): boolean {
  if (isAutoParsableResponseFormat(params.response_format)) return true;
  return (
    params.tools?.some(
      (t) =>
        isAutoParsableTool(t) ||
        ((t as { type?: string }).type === 'function' && (t as FunctionToolLike).function.strict === true),
    ) ?? false
  );
}

/** @throws OpenAIError when a tool call is not a function call (custom tools are not parsed). */
export function assertToolCallsAreChatCompletionFunctionToolCalls(
  toolCalls: readonly { type: string }[] | null | undefined,
): void {
  for (const call of toolCalls || []) {
    if (call.type !== 'function') {
      throw new AiwireError(
        `Currently only \`function\` tool calls are supported; Received \`${call.type}\``,
      );
    }
  }
}

/** `chat.completions.parse()` accepts only strict function tools. @throws OpenAIError otherwise. */
export function validateInputTools(tools: readonly unknown[] | null | undefined): void {
  for (const t of tools ?? []) {
    const tool = t as FunctionToolLike;
    if (tool.type !== 'function') {
      throw new AiwireError(
        `Currently only \`function\` tool types support auto-parsing; Received \`${tool.type}\``,
      );
    }
    if (tool.function.strict !== true) {
      throw new AiwireError(
        `The \`${tool.function.name}\` tool is not marked with \`strict: true\`. Only strict function tools can be auto-parsed`,
      );
    }
  }
}
