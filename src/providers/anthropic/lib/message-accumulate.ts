/**
 * The message accumulation of a `MessageStream` (see `message-stream.ts`): applying each raw event
 * to the message snapshot (`message_start`, `content_block_start`, the `text` / `citations` /
 * `input_json` / `thinking` / `signature` / beta `compaction` deltas, `content_block_stop`,
 * `message_delta`), tool inputs parsed lazily from their partial JSON, and the `parsed_output` of a
 * finished message. Written once for both APIs, on loose views of the objects.
 */
import { AiwireError } from '../../../core/errors.js';
import type { ParsedMessage } from './message-stream-types.js';
import { partialParse } from './partial-json.js';

/** Loose views of the accumulated objects (the accumulation is written once for both APIs). */
export type Block = { type: string; [key: string]: unknown };
export type Snapshot = {
  content: Block[];
  usage: Record<string, unknown>;
  [key: string]: unknown;
};
type Delta = { type: string; [key: string]: unknown };
export type Event = {
  type: string;
  index: number;
  message: Snapshot;
  content_block: Block;
  delta: Delta;
  usage: Record<string, unknown>;
  [key: string]: unknown;
};

/** The JSON text received so far of each tool block whose input is streaming (the SDK's `__json_buf`). */
const jsonBuffers = new WeakMap<object, string>();

/** The JSON text received so far of tool block `block` (undefined before its first delta). */
export function bufferedJson(block: object): string | undefined {
  return jsonBuffers.get(block);
}

/**
 * A copy of tool block `prev` whose `input` is parsed from `json` when first read (so a stream with
 * many deltas parses only what is looked at).
 */
function withLazyInput(prev: Block, json: string): Block {
  const next: Block = { type: prev.type };
  for (const key of Object.keys(prev)) if (key !== 'input') next[key] = prev[key];
  jsonBuffers.set(next, json);
  let parsed = false;
  let value: unknown;
  Object.defineProperty(next, 'input', {
    enumerable: true,
    configurable: true,
    get() {
      if (!parsed) {
        value = json ? partialParse(json) : {};
        parsed = true;
      }
      return value;
    },
  });
  return next;
}

/** True for a block whose input streams as `input_json_delta`s (beta: also `mcp_tool_use`). */
export function tracksInput(block: Block | undefined, beta: boolean): boolean {
  const t = block?.type;
  return t === 'tool_use' || t === 'server_tool_use' || (beta && t === 'mcp_tool_use');
}

/**
 * The message snapshot after `event`, or undefined before `message_start`. Mutates `snapshot` (the
 * message so far, undefined before `message_start`).
 */
export function accumulate(
  snapshot: Snapshot | undefined,
  event: Event,
  beta: boolean,
): Snapshot | undefined {
  if (event.type === 'message_start') {
    if (snapshot) {
      throw new AiwireError(`Unexpected event order, got ${event.type} before receiving "message_stop"`);
    }
    // A copy: the raw event may still be read later (queued for `for await` / `toReadableStream()`), and
    // must not show blocks pushed after it.
    const message = event.message as Snapshot;
    return { ...message, content: [...(message.content ?? [])] } as Snapshot;
  }
  if (!snapshot) return undefined;
  switch (event.type) {
    case 'message_delta': {
      const { delta, usage } = event;
      snapshot.stop_reason = delta.stop_reason;
      snapshot.stop_sequence = delta.stop_sequence;
      snapshot.stop_details = delta.stop_details;
      snapshot.usage.output_tokens = usage.output_tokens;
      if (delta.container != null) snapshot.container = delta.container;
      if (beta) {
        if (event.context_management != null) snapshot.context_management = event.context_management;
        if (event.input_transformations != null) snapshot.input_transformations = event.input_transformations;
      }
      // Cumulative whole-message totals, sent only when they apply: overwrite, never add.
      const totals = [
        'input_tokens',
        'cache_creation_input_tokens',
        'cache_read_input_tokens',
        'server_tool_use',
      ];
      if (beta) totals.push('iterations', 'fallback_credit');
      totals.push('output_tokens_details');
      for (const key of totals) if (usage[key] != null) snapshot.usage[key] = usage[key];
      return snapshot;
    }
    case 'content_block_start': {
      const block = event.content_block;
      snapshot.content.push({ ...block });
      if (beta && block.type === 'fallback') {
        snapshot.model = (block.to as { model?: unknown } | undefined)?.model;
      }
      return snapshot;
    }
    case 'content_block_delta': {
      const i = event.index;
      const block = snapshot.content.at(i);
      const delta = event.delta;
      if (!block) return snapshot;
      if (delta.type === 'text_delta' && block.type === 'text') {
        snapshot.content[i] = { ...block, text: ((block.text as string) || '') + (delta.text as string) };
      } else if (delta.type === 'citations_delta' && block.type === 'text') {
        const citations = (block.citations as unknown[] | null | undefined) ?? [];
        snapshot.content[i] = { ...block, citations: [...citations, delta.citation] };
      } else if (delta.type === 'input_json_delta' && tracksInput(block, beta)) {
        snapshot.content[i] = withLazyInput(
          block,
          (jsonBuffers.get(block) ?? '') + (delta.partial_json as string),
        );
      } else if (delta.type === 'thinking_delta' && block.type === 'thinking') {
        snapshot.content[i] = {
          ...block,
          thinking: (block.thinking as string) + (delta.thinking as string),
        };
      } else if (delta.type === 'signature_delta' && block.type === 'thinking') {
        snapshot.content[i] = { ...block, signature: delta.signature };
      } else if (beta && delta.type === 'compaction_delta' && block.type === 'compaction') {
        const next: Block = { ...block, content: delta.content };
        if ('encrypted_content' in delta) next.encrypted_content = delta.encrypted_content;
        snapshot.content[i] = next;
      }
      return snapshot;
    }
    case 'content_block_stop': {
      const block = snapshot.content.at(event.index);
      if (block && tracksInput(block, beta) && jsonBuffers.has(block)) {
        // The input is final: make it a plain property (parsing it now; a bad JSON text fails the stream).
        Object.defineProperty(block, 'input', {
          value: block.input,
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return snapshot;
    }
    default:
      return snapshot;
  }
}

/**
 * The message as `message`/`finalMessage` give it: a copy with `parsed_output` (from
 * `output_config.format.parse` when the request `params` has one, else null); text blocks copied
 * with a non-enumerable `parsed_output`.
 */
export function parseMessage<M, ParsedT>(snapshot: Snapshot, params: unknown): ParsedMessage<M, ParsedT> {
  const format = (params as { output_config?: { format?: unknown } } | null)?.output_config?.format as
    | { type?: unknown; parse?: (text: string) => unknown }
    | null
    | undefined;
  const parses = !!params && !!format && typeof format === 'object' && 'parse' in format;
  let first: unknown = null;
  const content = snapshot.content.map((block) => {
    if (block.type !== 'text') return block;
    let value: unknown = null;
    if (parses && format?.type === 'json_schema') {
      try {
        value = (format.parse as (text: string) => unknown)(block.text as string);
      } catch (error) {
        throw new AiwireError(`Failed to parse structured output: ${error}`);
      }
    }
    if (first === null) first = value;
    return Object.defineProperty({ ...block }, 'parsed_output', { value, enumerable: false });
  });
  return { ...snapshot, content, parsed_output: first } as unknown as ParsedMessage<M, ParsedT>;
}
