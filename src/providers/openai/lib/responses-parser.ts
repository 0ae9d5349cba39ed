/**
 * `client.responses.parse(body)`, as openai-node: `responses.create(body)` (not streamed), then each
 * `output_text` part of the output messages gets `parsed` (by the `text.format` made with
 * `zodTextFormat` / `makeParseableTextFormat`, else `JSON.parse` for a plain `json_schema` format,
 * else null), each `function_call` item gets `parsed_arguments` (by a `zodResponsesFunction` tool,
 * `JSON.parse` for a strict function tool, else null), and the response gets `output_parsed` (the
 * first non-null `parsed`). Nothing is parsed unless the response is `completed` (or has no status).
 */
import type { APIPromise } from '../../../core/api-promise.js';
import type { RequestOptions } from '../../../core/client.js';
import type * as S from '../generated/schemas.js';
import type { Response, ResponseCreateParamsNonStreaming } from '../resources/responses.js';
import type { AutoParseableResponseTool, AutoParseableTextFormat } from './chat-types.js';
import { isAutoParsableResponseFormat, isAutoParsableTool } from './parser.js';
import { addOutputText } from './responses.js';

/** An `output_text` part with `parsed`. */
export type ParsedResponseOutputText<ParsedT> = S.OutputTextContent & { parsed: ParsedT | null };

/** A function call item with `parsed_arguments`. */
export type ParsedResponseFunctionToolCall = S.FunctionToolCall & { parsed_arguments: unknown };

/** An output message whose text parts are parsed. */
export type ParsedResponseOutputMessage<ParsedT> = Omit<S.OutputMessage, 'content'> & {
  content: (ParsedResponseOutputText<ParsedT> | Exclude<S.OutputMessageContent, S.OutputTextContent>)[];
};

/** An output item of a parsed response. */
export type ParsedResponseOutputItem<ParsedT> =
  | ParsedResponseOutputMessage<ParsedT>
  | ParsedResponseFunctionToolCall
  | Exclude<Response['output'][number], S.OutputMessage | S.FunctionToolCall>;

/** A response with `output_parsed` and parsed output items. */
export type ParsedResponse<ParsedT> = Omit<Response, 'output'> & {
  output: ParsedResponseOutputItem<ParsedT>[];
  output_parsed: ParsedT | null;
  output_text: string;
};

/** The parsed type a request's `text.format` gives (null when it is not auto-parseable). */
export type ExtractParsedContentFromResponseParams<Params> = Params extends {
  text?: { format?: AutoParseableTextFormat<infer P> } | null;
}
  ? P
  : null;

/** What `responses.parse()` reads of the request. */
interface ResponseParseParams {
  text?: { format?: unknown } | null;
  tools?: readonly unknown[] | null;
}

type FunctionTool = { type: 'function'; name: string; strict?: boolean | null };
type Item = { type: string; [key: string]: unknown };

/** A Responses API function tool whose arguments `parse()` parses (and a runner may call). */
export function makeParseableResponseTool<ParsedT>(
  tool: S.FunctionTool,
  {
    parser,
    callback,
  }: { parser: (args: string) => ParsedT; callback: ((args: ParsedT) => unknown) | undefined },
): AutoParseableResponseTool<ParsedT> {
  const obj = { ...tool };
  Object.defineProperties(obj, {
    $brand: { value: 'auto-parseable-tool', enumerable: false },
    $parseRaw: { value: parser, enumerable: false },
    $callback: { value: callback, enumerable: false },
  });
  return obj as never;
}

/** True when the request asks for parsing (an auto-parseable format, or a strict / auto-parseable tool). */
export function hasAutoParseableResponseInput(params: ResponseParseParams): boolean {
  if (isAutoParsableResponseFormat(params.text?.format)) return true;
  return (
    Array.isArray(params.tools) &&
    params.tools.some(
      (tool) =>
        isAutoParsableTool(tool) ||
        ((tool as FunctionTool).type === 'function' && (tool as FunctionTool).strict === true),
    )
  );
}

function parseTextFormat(params: ResponseParseParams, content: string): unknown {
  const format = params.text?.format as { type?: string; $parseRaw?: (c: string) => unknown } | undefined;
  if (format?.type !== 'json_schema') return null;
  if ('$parseRaw' in format) return (format.$parseRaw as (c: string) => unknown)(content);
  return JSON.parse(content);
}

function parseToolCall(params: ResponseParseParams, call: Item): Item {
  const tool = (params.tools ?? []).find(
    (t): t is FunctionTool =>
      (t as FunctionTool).type === 'function' && (t as FunctionTool).name === call.name,
  );
  const args = call.arguments as string;
  return {
    ...call,
    parsed_arguments: isAutoParsableTool(tool)
      ? tool.$parseRaw(args)
      : tool?.strict
        ? JSON.parse(args)
        : null,
  };
}

/** The response with `parsed` / `parsed_arguments` on its items and an enumerable `output_parsed` getter. */
export function parseResponse<ParsedT>(
  response: Response,
  params: ResponseParseParams,
): ParsedResponse<ParsedT> {
  const shouldParse = !response.status || response.status === 'completed';
  const output = (response.output as unknown as Item[]).map((item) => {
    if (item.type === 'function_call') {
      return shouldParse ? parseToolCall(params, item) : { ...item, parsed_arguments: null };
    }
    if (item.type === 'message') {
      const content = (item.content as Item[]).map((part) =>
        part.type === 'output_text'
          ? { ...part, parsed: shouldParse ? parseTextFormat(params, part.text as string) : null }
          : part,
      );
      return { ...item, content };
    }
    return item;
  });
  const parsed = Object.assign({}, response, { output }) as unknown as ParsedResponse<ParsedT>;
  if (!Object.getOwnPropertyDescriptor(response, 'output_text') || parsed.output_text == null) {
    addOutputText(parsed);
  }
  Object.defineProperty(parsed, 'output_parsed', {
    enumerable: true,
    get() {
      for (const item of parsed.output as Item[]) {
        if (item.type !== 'message') continue;
        for (const part of item.content as Item[]) {
          if (part.type === 'output_text' && part.parsed !== null) return part.parsed;
        }
      }
      return null;
    },
  });
  return parsed;
}

/** The resource's `create`. */
interface ResponsesCreate {
  create(body: ResponseCreateParamsNonStreaming, options?: RequestOptions): APIPromise<Response>;
}

/** Carry the request id of `from` over to `to` (non-enumerable, as on every parsed body). */
export function keepRequestID<T>(from: unknown, to: T): T {
  const id = (from as { _request_id?: unknown } | null)?._request_id;
  if (id !== undefined && to && typeof to === 'object') {
    Object.defineProperty(to, '_request_id', {
      value: id,
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
  return to;
}

/**
 * `client.responses.parse(body, options)`.
 * @throws (rejects) the request's errors, and the parsers' (e.g. a zod error, `SyntaxError`).
 */
export function parseResponses<
  Params extends ResponseCreateParamsNonStreaming,
  ParsedT = ExtractParsedContentFromResponseParams<Params>,
>(responses: ResponsesCreate, body: Params, options?: RequestOptions): APIPromise<ParsedResponse<ParsedT>> {
  return responses
    .create(body, options)
    ._thenUnwrap((response) =>
      keepRequestID(response, parseResponse<ParsedT>(response, body as unknown as ResponseParseParams)),
    );
}
