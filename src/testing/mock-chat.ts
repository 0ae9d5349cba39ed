/**
 * `POST /chat/completions` of the bundled mock (see `startMockServer`): an echo of the last message,
 * plain or streamed, plus two answers that depend on the request:
 * - with `tools` (and `tool_choice` not `'none'`) and a last message that is not a `tool` result, the
 *   assistant calls the first function tool (or the one `tool_choice` names), with arguments made from
 *   its `parameters` schema (see {@link sampleFromSchema}); `finish_reason` is `'tool_calls'`;
 * - with `response_format: { type: 'json_schema' }` the content is a JSON value of that schema, with
 *   `{ type: 'json_object' }` it is `{"echo": <text>}`.
 *
 * @module
 */

import type { ServerResponse } from 'node:http';
import {
  ApiError,
  CREATED,
  contentText,
  countWords,
  isObject,
  type JsonObject,
  optionalPositiveInt,
  SYSTEM_FINGERPRINT,
  send,
  splitPieces,
  writeEvents,
} from './mock-common.js';

const MAX_N = 128;

/** The last word (letters, digits, `-`) of `text`, e.g. `'Paris'` for `"What's the weather in Paris?"`. */
function lastWord(text: string): string {
  const words = text.match(/[\p{L}\p{N}-]+/gu);
  return words?.[words.length - 1] ?? 'mock';
}

/**
 * A deterministic value of a JSON schema: objects get every property, arrays one item, strings `text`,
 * numbers and integers `1`, booleans `true`; `enum`/`const` give their first value, `anyOf`/`oneOf` their
 * first branch; anything else (e.g. `$ref`) `null`.
 */
export function sampleFromSchema(schema: unknown, text: string, depth = 0): unknown {
  if (!isObject(schema) || depth > 8) return null;
  if (Array.isArray(schema.enum)) return schema.enum[0] ?? null;
  if ('const' in schema) return schema.const;
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches)) return sampleFromSchema(branches[0], text, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const out: JsonObject = {};
      const props = isObject(schema.properties) ? schema.properties : {};
      for (const key of Object.keys(props)) out[key] = sampleFromSchema(props[key], text, depth + 1);
      return out;
    }
    case 'array':
      return [sampleFromSchema(schema.items, text, depth + 1)];
    case 'string':
      return text;
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** The tool call the assistant makes for this request, if it makes one (see the module comment). */
function toolCallFor(body: JsonObject, lastMessage: unknown, n: number): ToolCall | undefined {
  const tools = body.tools;
  if (!Array.isArray(tools) || tools.length === 0 || body.tool_choice === 'none') return undefined;
  if (isObject(lastMessage) && lastMessage.role === 'tool') return undefined;
  const choice = body.tool_choice;
  const wanted = isObject(choice) && isObject(choice.function) ? choice.function.name : undefined;
  const fn = tools
    .map((t: unknown) => (isObject(t) && t.type === 'function' && isObject(t.function) ? t.function : null))
    .find((f): f is JsonObject => f !== null && (wanted === undefined || f.name === wanted));
  if (!fn || typeof fn.name !== 'string') return undefined;
  const hint = lastWord(isObject(lastMessage) ? contentText(lastMessage.content) : '');
  const args = sampleFromSchema(fn.parameters ?? { type: 'object' }, hint) ?? {};
  return {
    id: `call_mock_${n}`,
    type: 'function',
    function: { name: fn.name, arguments: JSON.stringify(args) },
  };
}

/** The content asked for by `response_format`, if any. */
function formattedContent(body: JsonObject, text: string): string | undefined {
  const format = body.response_format;
  if (!isObject(format)) return undefined;
  if (format.type === 'json_object') return JSON.stringify({ echo: text });
  if (format.type === 'json_schema' && isObject(format.json_schema)) {
    return JSON.stringify(sampleFromSchema(format.json_schema.schema, lastWord(text)));
  }
  return undefined;
}

/**
 * Answers one chat completion request (validated as the API does for `model`, `messages`, `n` and
 * the token limits).
 *
 * @param n the server's request counter, used in ids.
 * @param chunkDelayMs delay between two streamed events (0: the whole stream at once).
 * @throws ApiError 400 for an invalid request.
 */
export async function chatCompletion(
  res: ServerResponse,
  n: number,
  body: JsonObject,
  chunkDelayMs: number,
): Promise<void> {
  const model = body.model;
  if (typeof model !== 'string' || model === '') {
    throw new ApiError(400, 'you must provide a model parameter', 'model');
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ApiError(400, "Invalid 'messages': expected a non-empty array of messages.", 'messages');
  }
  let promptTokens = 0;
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isObject(m) || typeof m.role !== 'string') {
      throw new ApiError(
        400,
        `Invalid 'messages[${i}]': expected an object with a string 'role'.`,
        `messages[${i}]`,
      );
    }
    promptTokens += countWords(contentText(m.content));
  }
  const choices = optionalPositiveInt(body, 'n', MAX_N) ?? 1;
  const maxWords =
    optionalPositiveInt(body, 'max_completion_tokens', Number.MAX_SAFE_INTEGER) ??
    optionalPositiveInt(body, 'max_tokens', Number.MAX_SAFE_INTEGER);

  const last: unknown = messages[messages.length - 1];
  const lastText = isObject(last) ? contentText(last.content) : '';
  const toolCall = toolCallFor(body, last, n);
  let content = formattedContent(body, lastText) ?? `Echo: ${lastText}`;
  let finishReason: 'stop' | 'length' | 'tool_calls' = 'stop';
  let pieces = splitPieces(content);
  const words = countWords(content);
  if (toolCall) {
    content = '';
    pieces = [];
    finishReason = 'tool_calls';
  } else if (maxWords !== undefined && words > maxWords) {
    // Keep the first `maxWords` words; each piece holds exactly one word.
    content = pieces.slice(0, maxWords).join('').trimEnd();
    pieces = splitPieces(content);
    finishReason = 'length';
  }
  const completionTokens = (countWords(content) + (toolCall ? 1 : 0)) * choices;
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
  const id = `chatcmpl-mock-${n}`;

  if (body.stream !== true) {
    const message = toolCall
      ? { role: 'assistant', content: null, refusal: null, tool_calls: [toolCall] }
      : { role: 'assistant', content, refusal: null };
    const out = [];
    for (let i = 0; i < choices; i++) {
      out.push({ index: i, message, logprobs: null, finish_reason: finishReason });
    }
    send(res, 200, {
      id,
      object: 'chat.completion',
      created: CREATED,
      model,
      choices: out,
      usage,
      system_fingerprint: SYSTEM_FINGERPRINT,
    });
    return;
  }

  const streamOptions = body.stream_options;
  const includeUsage = isObject(streamOptions) && streamOptions.include_usage === true;
  const events: string[] = [];
  const chunk = (index: number, delta: JsonObject, finish: string | null): string => {
    const c: JsonObject = {
      id,
      object: 'chat.completion.chunk',
      created: CREATED,
      model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [{ index, delta, logprobs: null, finish_reason: finish }],
    };
    if (includeUsage) c.usage = null;
    return `data: ${JSON.stringify(c)}\n\n`;
  };
  for (let i = 0; i < choices; i++) events.push(chunk(i, { role: 'assistant', content: '' }, null));
  for (const piece of pieces) {
    for (let i = 0; i < choices; i++) events.push(chunk(i, { content: piece }, null));
  }
  if (toolCall) {
    const { name, arguments: args } = toolCall.function;
    const head = { index: 0, id: toolCall.id, type: 'function', function: { name, arguments: '' } };
    for (let i = 0; i < choices; i++) {
      events.push(chunk(i, { tool_calls: [head] }, null));
      events.push(chunk(i, { tool_calls: [{ index: 0, function: { arguments: args } }] }, null));
    }
  }
  for (let i = 0; i < choices; i++) events.push(chunk(i, {}, finishReason));
  if (includeUsage) {
    events.push(
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created: CREATED,
        model,
        system_fingerprint: SYSTEM_FINGERPRINT,
        choices: [],
        usage,
      })}\n\n`,
    );
  }
  events.push('data: [DONE]\n\n');
  await writeEvents(res, events, chunkDelayMs);
}
