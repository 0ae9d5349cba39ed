/**
 * The types of `MessageStream` / `BetaMessageStream` (see `message-stream.ts`): which API a stream is
 * about (`MessagesTypes`, `BetaMessagesTypes`), the listeners of each event with the SDK's arguments
 * (`MessageStreamEvents`), `ParsedMessage`, and `StreamingCreate` (the `messages.create` a stream
 * calls).
 */
import type { APIPromise } from '../../../core/api-promise.js';
import type { RequestOptions } from '../../../core/client.js';
import type { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import type { Stream } from '../../../core/streaming.js';
import type * as S from '../generated/schemas.js';
import type { MessageCreateParamsBase as BetaMessageCreateParamsBase } from '../resources/beta/messages.js';
import type { MessageCreateParamsBase } from '../resources/messages.js';

/** The types a stream is about: the Messages API's, or the beta Messages API's. */
export interface MessageStreamTypes {
  message: object;
  event: { type: string };
  block: { type: string };
  citation: object;
  param: object;
  params: { messages: readonly unknown[] };
}

/** The Messages API's types (`Message`, `RawMessageStreamEvent`, …). */
export interface MessagesTypes extends MessageStreamTypes {
  message: S.Message;
  event: S.MessageStreamEvent;
  block: S.ContentBlock;
  citation: S.CitationsDelta['citation'];
  param: S.InputMessage;
  params: MessageCreateParamsBase;
}

/** The beta Messages API's types (`BetaMessage`, `BetaRawMessageStreamEvent`, …). */
export interface BetaMessagesTypes extends MessageStreamTypes {
  message: S.BetaMessage;
  event: S.BetaMessageStreamEvent;
  block: S.BetaContentBlock;
  citation: S.BetaCitationsDelta['citation'];
  param: S.BetaInputMessage;
  params: BetaMessageCreateParamsBase;
}

/**
 * A message as `message` / `finalMessage` give it: the accumulated message plus `parsed_output`
 * (the structured output parsed by `output_config.format.parse`, else null), as the SDK's
 * `ParsedMessage`. Text blocks carry a non-enumerable `parsed_output` too.
 */
export type ParsedMessage<M, ParsedT = null> = M & { parsed_output: ParsedT | null };

/** The listeners of each event, with the SDK's arguments. */
export interface MessageStreamEvents<T extends MessageStreamTypes = MessagesTypes, ParsedT = null> {
  /** The response head arrived. */
  connect: () => void;
  /** Every event from `message_start` on, with the message accumulated so far (the same object each time). */
  streamEvent: (event: T['event'], snapshot: T['message']) => void;
  /** A `text_delta`: the delta and the block's text so far. */
  text: (textDelta: string, textSnapshot: string) => void;
  /** A `citations_delta`: the citation and the block's citations so far. */
  citation: (citation: T['citation'], citationsSnapshot: T['citation'][]) => void;
  /**
   * An `input_json_delta` of a `tool_use` / `server_tool_use` block (beta: also `mcp_tool_use`): the
   * delta and the input so far, parsed from the partial JSON (see `partial-json.ts`). Only parsed when
   * a listener is registered.
   */
  inputJson: (partialJson: string, jsonSnapshot: unknown) => void;
  /** A `thinking_delta`: the delta and the block's thinking so far. */
  thinking: (thinkingDelta: string, thinkingSnapshot: string) => void;
  /** A `signature_delta`: the thinking block's signature. */
  signature: (signature: string) => void;
  /** Beta only: a `compaction_delta` with content: the block's compacted content. */
  compaction: (compactedContent: string) => void;
  /** `message_stop`: the whole message. */
  message: (message: ParsedMessage<T['message'], ParsedT>) => void;
  /** `content_block_stop`: the finished block. */
  contentBlock: (content: T['block']) => void;
  /** The stream ended normally: the last message. */
  finalMessage: (message: ParsedMessage<T['message'], ParsedT>) => void;
  /** The stream failed (typed `APIError`, connection errors, …; other errors wrapped in `AnthropicError`). */
  error: (error: AiwireError) => void;
  /** `abort()`, the request's `signal`, or leaving a `for await` over the stream early. */
  abort: (error: APIUserAbortError) => void;
  /** Always last, once. */
  end: () => void;
}

/** The one argument of an event's listener, the tuple of several, or void. */
export type EmittedValue<F> = F extends (...args: infer A) => unknown
  ? A extends [infer One]
    ? One
    : A extends []
      ? undefined
      : A
  : never;

/** What `messages.create` is to this helper: one streaming request. */
export interface StreamingCreate<T extends MessageStreamTypes = MessagesTypes> {
  create(body: T['params'] & { stream: true }, options?: RequestOptions): APIPromise<Stream<T['event']>>;
}
