/**
 * Chat completion chunks → one completion, as openai-node's `ChatCompletionStream` accumulates them:
 * the snapshot takes the first chunk's top-level fields (later chunks with an `id` overwrite them),
 * each choice is found by `index`; content, refusal, audio data/transcript and function-call arguments
 * are concatenated, tool calls are merged by their `index`; logprobs `content` / `refusal` arrays are
 * appended. With an auto-parseable `response_format` the content is partially parsed into
 * `message.parsed` at each chunk (strict / auto-parseable tools: `function.parsed_arguments`).
 * `finalizeChatCompletion` turns the snapshot into a `ChatCompletion` (missing role or finish reason:
 * `OpenAIError`), then parses it (`message.parsed`, `parsed_arguments`).
 *
 * Plain JS over the parsed chunks; no copies of the chunk other than what the snapshot keeps.
 * Reference: https://platform.openai.com/docs/api-reference/chat/streaming
 */
import { randomUUID } from 'node:crypto';
import { AiwireError } from '../../../core/errors.js';
import type { ChatCompletion, ChatCompletionChunk } from '../resources/chat/completions.js';
import type {
  ChatCompletionSnapshot,
  ChatCompletionSnapshotChoice,
  ParsedChatCompletion,
} from './chat-types.js';
import { ContentFilterFinishReasonError, LengthFinishReasonError } from './errors.js';
import {
  hasAutoParseableInput,
  isAutoParsableResponseFormat,
  maybeParseChatCompletion,
  type ParseParams,
  shouldParseToolCall,
} from './parser.js';
import { partialParse } from './partial-json.js';

type Obj = Record<string, unknown>;
type SnapshotMessage = ChatCompletionSnapshotChoice['message'];
type SnapshotToolCall = NonNullable<SnapshotMessage['tool_calls']>[number];
type ChunkChoice = ChatCompletionChunk['choices'][number];
type Delta = ChunkChoice['delta'] & Obj;

/** The accumulation state of one request. */
export interface Accumulator {
  snapshot: ChatCompletionSnapshot | undefined;
  /** Choices whose last delta carried only `audio.expires_at` (the audio is done; no finish reason needed). */
  audioDone: Set<number>;
}

export function newAccumulator(): Accumulator {
  return { snapshot: undefined, audioDone: new Set() };
}

/** Copy every own field of `from` except those in `skip` onto `to`. */
function assignExcept(to: Obj, from: Obj, skip: readonly string[]): void {
  for (const key in from) {
    if (!skip.includes(key)) to[key] = from[key];
  }
}

/** A chunk's top-level fields but `choices` (every chunk: kept cheap). */
function assignChunkFields(to: Obj, from: Obj): void {
  for (const key in from) {
    if (key !== 'choices') to[key] = from[key];
  }
}

/** A chunk choice's fields but `delta`, `finish_reason`, `index`, `logprobs` (every chunk: kept cheap). */
function assignChoiceFields(to: Obj, from: Obj): void {
  for (const key in from) {
    if (key !== 'delta' && key !== 'finish_reason' && key !== 'index' && key !== 'logprobs')
      to[key] = from[key];
  }
}

const DELTA_FIELDS = ['audio', 'content', 'refusal', 'function_call', 'role', 'tool_calls'] as const;
const TOOL_CALL_FIELDS = ['index', 'id', 'type', 'function'] as const;

/**
 * Fold `chunk` into the snapshot (made from the first chunk) and return it.
 * @throws LengthFinishReasonError / ContentFilterFinishReasonError at such a `finish_reason` when the
 *   request asks for parsing; the partial parser's errors for content that is not JSON.
 */
export function accumulateChunk(
  acc: Accumulator,
  chunk: ChatCompletionChunk,
  params: ParseParams | null,
): ChatCompletionSnapshot {
  let snapshot = acc.snapshot;
  if (!snapshot) {
    snapshot = {} as ChatCompletionSnapshot;
    assignChunkFields(snapshot, chunk as unknown as Obj);
    snapshot.choices = [];
    acc.snapshot = snapshot;
  } else if (chunk.id) {
    assignChunkFields(snapshot, chunk as unknown as Obj);
  }
  const responseFormat = params && isAutoParsableResponseFormat(params.response_format);
  for (const c of chunk.choices) {
    const raw = c as ChunkChoice & Obj;
    const { delta, finish_reason, index } = raw;
    const logprobs = raw.logprobs ?? null;
    let choice = snapshot.choices[index];
    if (!choice) {
      choice = { finish_reason, index, message: {}, logprobs } as ChatCompletionSnapshotChoice;
      assignChoiceFields(choice, raw);
      snapshot.choices[index] = choice;
    }
    if (logprobs) {
      if (!choice.logprobs) {
        choice.logprobs = { ...logprobs };
      } else {
        const { content, refusal } = logprobs;
        assignExcept(choice.logprobs as Obj, logprobs as Obj, ['content', 'refusal']);
        if (content) {
          choice.logprobs.content ??= [];
          choice.logprobs.content.push(...content);
        }
        if (refusal) {
          choice.logprobs.refusal ??= [];
          choice.logprobs.refusal.push(...refusal);
        }
      }
    }
    if (finish_reason) {
      choice.finish_reason = finish_reason;
      if (params && hasAutoParseableInput(params)) {
        if (finish_reason === 'length') throw new LengthFinishReasonError();
        if (finish_reason === 'content_filter') throw new ContentFilterFinishReasonError();
      }
    }
    assignChoiceFields(choice, raw);
    if (!delta) continue;
    acc.audioDone.delete(index);
    addDelta(acc, choice, delta as Delta, index, params, !!responseFormat);
  }
  return snapshot;
}

function addDelta(
  acc: Accumulator,
  choice: ChatCompletionSnapshotChoice,
  delta: Delta,
  index: number,
  params: ParseParams | null,
  parseContent: boolean,
): void {
  const message = choice.message;
  const { audio, content, refusal, function_call, role, tool_calls } = delta as Delta & {
    audio?: { id?: string; data?: string; transcript?: string; expires_at?: number } | null;
  };
  let others = 0;
  for (const key in delta) {
    if (!DELTA_FIELDS.includes(key as never)) {
      message[key] = delta[key];
      others++;
    }
  }
  if (
    audio?.expires_at != null &&
    audio.id == null &&
    audio.data == null &&
    audio.transcript == null &&
    content == null &&
    refusal == null &&
    function_call == null &&
    role == null &&
    tool_calls == null &&
    others === 0
  ) {
    acc.audioDone.add(index);
  }
  if (refusal) message.refusal = (message.refusal || '') + refusal;
  if (role) message.role = role;
  if (audio) {
    message.audio ??= {};
    const snap = message.audio;
    if (audio.id != null) snap.id = audio.id;
    if (audio.data != null) snap.data = (snap.data ?? '') + audio.data;
    if (audio.transcript != null) snap.transcript = (snap.transcript ?? '') + audio.transcript;
    if (audio.expires_at != null) snap.expires_at = audio.expires_at;
  }
  if (function_call) {
    if (!message.function_call) {
      message.function_call = function_call;
    } else {
      if (function_call.name) message.function_call.name = function_call.name;
      if (function_call.arguments) {
        message.function_call.arguments ??= '';
        message.function_call.arguments += function_call.arguments;
      }
    }
  }
  if (content) {
    message.content = (message.content || '') + content;
    if (!message.refusal && parseContent) {
      // the partial parser refuses blank text
      message.parsed = message.content.trim() ? partialParse(message.content) : null;
    }
  }
  if (tool_calls) {
    message.tool_calls ??= [];
    for (const t of tool_calls) {
      const raw = t as typeof t & Obj;
      message.tool_calls[raw.index] ??= {};
      const call = message.tool_calls[raw.index] as SnapshotToolCall;
      assignExcept(call, raw, TOOL_CALL_FIELDS);
      if (raw.id) call.id = raw.id;
      if (raw.type) call.type = raw.type;
      const fn = raw.function;
      if (fn) call.function ??= { name: fn.name ?? '', arguments: '' };
      if (fn?.name) (call.function as { name: string }).name = fn.name;
      if (fn?.arguments) {
        const f = call.function as { name: string; arguments: string; parsed_arguments?: unknown };
        f.arguments += fn.arguments;
        if (shouldParseToolCall(params, call as { function: { name: string } })) {
          f.parsed_arguments = partialParse(f.arguments);
        }
      }
    }
  }
}

const str = (x: unknown) => JSON.stringify(x);

function isCompleteAudio(audio: SnapshotMessage['audio']): boolean {
  return audio?.id != null && audio.data != null && audio.transcript != null && audio.expires_at != null;
}

/**
 * The snapshot as a `ChatCompletion` (`object: 'chat.completion'`), parsed as the request asks.
 * @throws OpenAIError for a choice without role or finish reason, or a tool call without type, name or
 *   arguments; the parse errors of {@link maybeParseChatCompletion}.
 */
export function finalizeChatCompletion<ParsedT>(
  snapshot: ChatCompletionSnapshot,
  params: ParseParams | null,
  audioDone: Set<number>,
): ParsedChatCompletion<ParsedT> {
  const { id, choices, created, model, system_fingerprint, ...rest } = snapshot;
  const completion = {
    ...rest,
    id,
    choices: choices.map(({ message, finish_reason, index, logprobs, ...choiceRest }) => {
      const { content = null, function_call, tool_calls, audio, ...messageRest } = message;
      const finishReason = finish_reason ?? (audioDone.has(index) && isCompleteAudio(audio) ? 'stop' : null);
      if (!finishReason) throw new AiwireError(`missing finish_reason for choice ${index}`);
      const audioResponse = audio ? { audio } : {};
      const role = message.role;
      if (!role) throw new AiwireError(`missing role for choice ${index}`);
      if (function_call) {
        const { arguments: args, name } = function_call;
        if (args == null) throw new AiwireError(`missing function_call.arguments for choice ${index}`);
        if (!name) throw new AiwireError(`missing function_call.name for choice ${index}`);
        return {
          ...choiceRest,
          message: {
            ...audioResponse,
            content,
            function_call: { arguments: args, name },
            role,
            refusal: message.refusal ?? null,
          },
          finish_reason: finishReason,
          index,
          logprobs,
        };
      }
      if (tool_calls) {
        return {
          ...choiceRest,
          index,
          finish_reason: finishReason,
          logprobs,
          message: {
            ...messageRest,
            ...audioResponse,
            role,
            content,
            refusal: message.refusal ?? null,
            tool_calls: tool_calls.map((call, i) => {
              const { function: fn, type, id: callId, ...toolRest } = call;
              const { arguments: args, name, ...fnRest } = fn || ({} as Partial<NonNullable<typeof fn>>);
              if (type == null)
                throw new AiwireError(`missing choices[${index}].tool_calls[${i}].type\n${str(snapshot)}`);
              if (name == null) {
                throw new AiwireError(
                  `missing choices[${index}].tool_calls[${i}].function.name\n${str(snapshot)}`,
                );
              }
              if (args == null) {
                throw new AiwireError(
                  `missing choices[${index}].tool_calls[${i}].function.arguments\n${str(snapshot)}`,
                );
              }
              return {
                ...toolRest,
                id: callId || `call_${randomUUID()}`,
                type,
                function: { ...fnRest, name, arguments: args },
              };
            }),
          },
        };
      }
      return {
        ...choiceRest,
        message: { ...messageRest, ...audioResponse, content, role, refusal: message.refusal ?? null },
        finish_reason: finishReason,
        index,
        logprobs,
      };
    }),
    created,
    model,
    object: 'chat.completion',
    ...(system_fingerprint ? { system_fingerprint } : {}),
  } as unknown as ChatCompletion;
  return maybeParseChatCompletion<ParsedT>(completion, params);
}
