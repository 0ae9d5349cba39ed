/**
 * Response snapshot accumulation for `ResponseStream`: each Responses streaming event
 * (https://platform.openai.com/docs/api-reference/responses-streaming) applied to the response
 * being built, with openai-node's rules (v6, `accumulateResponse`): `response.created` starts the
 * snapshot (a clone); the lifecycle events (`queued`, `in_progress`, `completed`, `failed`,
 * `incomplete`) replace it with a clone of their `response`; item, content-part, delta and `done`
 * events update it in place (payloads cloned); `output_text` is kept current. Events that carry no
 * state (audio, partial images, MCP tool listing, `keepalive`, `error`) leave it unchanged.
 * A malformed sequence (no `response.created` first, a missing output or content index, a delta of
 * the wrong content type, an unknown event type) throws `AiwireError` naming what was wrong.
 * Written for aiwire; never imports openai-node.
 */
import { AiwireError } from '../../../core/errors.js';
import { addOutputText } from './responses.js';

/** A response snapshot, as far as accumulation reads it. */
// biome-ignore lint/suspicious/noExplicitAny: the snapshot is built from untyped event payloads
export type Snapshot = { output: Item[]; output_text: string; [k: string]: any };
// biome-ignore lint/suspicious/noExplicitAny: as above
type Item = { type: string; [k: string]: any };
// biome-ignore lint/suspicious/noExplicitAny: as above
type Event = { type: string; [k: string]: any };

/** Lifecycle events: the snapshot becomes a clone of `event.response`. */
const LIFECYCLE = new Set([
  'response.created',
  'response.queued',
  'response.in_progress',
  'response.completed',
  'response.failed',
  'response.incomplete',
]);

/** Events that carry no state of the response. */
const STATELESS = new Set([
  'response.audio.delta',
  'response.audio.done',
  'response.audio.transcript.delta',
  'response.audio.transcript.done',
  'response.image_generation_call.partial_image',
  'response.mcp_list_tools.in_progress',
  'response.mcp_list_tools.completed',
  'response.mcp_list_tools.failed',
  'keepalive',
  'error',
]);

/** `<prefix>.<status>` events: the output item of that type gets `status`. */
const STATUS_EVENTS: Record<string, [itemType: string, status: string]> = {};
for (const [prefix, itemType, statuses] of [
  ['response.code_interpreter_call', 'code_interpreter_call', ['in_progress', 'interpreting', 'completed']],
  ['response.file_search_call', 'file_search_call', ['in_progress', 'searching', 'completed']],
  ['response.web_search_call', 'web_search_call', ['in_progress', 'searching', 'completed']],
  ['response.image_generation_call', 'image_generation_call', ['in_progress', 'generating', 'completed']],
  ['response.mcp_call', 'mcp_call', ['in_progress', 'completed', 'failed']],
] as const) {
  for (const status of statuses) STATUS_EVENTS[`${prefix}.${status}`] = [itemType, status];
}

/** Delta/done pairs on a field of one output item type: [item type, field, done event's field]. */
const ITEM_FIELDS: Record<string, [itemType: string, field: string, doneField: string | null]> = {
  'response.function_call_arguments.delta': ['function_call', 'arguments', null],
  'response.function_call_arguments.done': ['function_call', 'arguments', 'arguments'],
  'response.custom_tool_call_input.delta': ['custom_tool_call', 'input', null],
  'response.custom_tool_call_input.done': ['custom_tool_call', 'input', 'input'],
  'response.mcp_call_arguments.delta': ['mcp_call', 'arguments', null],
  'response.mcp_call_arguments.done': ['mcp_call', 'arguments', 'arguments'],
  'response.code_interpreter_call_code.delta': ['code_interpreter_call', 'code', null],
  'response.code_interpreter_call_code.done': ['code_interpreter_call', 'code', 'code'],
};

/** A clone of `response` with `output_text` set when it has none. */
function cloneResponse(response: object): Snapshot {
  const snapshot = structuredClone(response) as Snapshot;
  if (snapshot.output_text == null) addOutputText(snapshot);
  return snapshot;
}

function at<T>(list: T[] | null | undefined, index: number, what: string): T {
  const value = list?.[index];
  if (!value) throw new AiwireError(`missing ${what} at index ${index}`);
  return value;
}

function expectType(part: Item, type: string): void {
  if (part.type !== type) throw new AiwireError(`expected content to be '${type}', got ${part.type}`);
}

/**
 * Apply `event` to `snapshot` and return the snapshot to use from now on (lifecycle events return
 * a new one; the others update `snapshot` in place).
 * @throws AiwireError when the event does not fit the snapshot (see the file comment).
 */
export function accumulateResponse(event: Event, snapshot: Snapshot | undefined): Snapshot {
  if (!snapshot) {
    if (event.type !== 'response.created') {
      throw new AiwireError(
        `When snapshot hasn't been set yet, expected 'response.created' event, got ${event.type}`,
      );
    }
    return cloneResponse(event.response);
  }
  const type = event.type;
  if (LIFECYCLE.has(type)) return cloneResponse(event.response);
  if (STATELESS.has(type)) return snapshot;
  const status = STATUS_EVENTS[type];
  if (status) {
    const item = at(snapshot.output, event.output_index, 'output');
    if (item.type === status[0]) item.status = status[1];
    return snapshot;
  }
  const field = ITEM_FIELDS[type];
  if (field) {
    const item = at(snapshot.output, event.output_index, 'output');
    if (item.type === field[0]) {
      if (field[2] === null) item[field[1]] = (item[field[1]] ?? '') + event.delta;
      else item[field[1]] = event[field[2]];
    }
    return snapshot;
  }
  applyContentEvent(event, snapshot);
  return snapshot;
}

/** Output items, content parts, text, refusal, reasoning and annotation events. */
function applyContentEvent(event: Event, snapshot: Snapshot): void {
  switch (event.type) {
    case 'response.output_item.added':
      snapshot.output.push(structuredClone(event.item));
      if (event.item.type === 'message') addOutputText(snapshot);
      return;
    case 'response.output_item.done':
      at(snapshot.output, event.output_index, 'output');
      snapshot.output[event.output_index] = structuredClone(event.item);
      if (event.item.type === 'message') addOutputText(snapshot);
      return;
    case 'response.content_part.added':
    case 'response.content_part.done': {
      const item = at(snapshot.output, event.output_index, 'output');
      const part = event.part as Item;
      const added = event.type === 'response.content_part.added';
      if (item.type === 'message' && part.type !== 'reasoning_text') {
        if (added) item.content.push(structuredClone(part));
        else {
          at(item.content, event.content_index, 'content');
          item.content[event.content_index] = structuredClone(part);
        }
        if (part.type === 'output_text') addOutputText(snapshot);
      } else if (item.type === 'reasoning' && part.type === 'reasoning_text') {
        if (added) {
          item.content ??= [];
          item.content.push(structuredClone(part));
        } else {
          if (!item.content) throw new AiwireError(`missing content at index ${event.content_index}`);
          at(item.content, event.content_index, 'content');
          item.content[event.content_index] = structuredClone(part);
        }
      }
      return;
    }
    case 'response.output_text.delta':
    case 'response.output_text.done':
    case 'response.output_text.annotation.added': {
      const item = at(snapshot.output, event.output_index, 'output');
      if (item.type !== 'message') return;
      const part = at<Item>(item.content, event.content_index, 'content');
      expectType(part, 'output_text');
      if (event.type === 'response.output_text.delta') {
        part.text += event.delta;
        snapshot.output_text += event.delta;
      } else if (event.type === 'response.output_text.done') {
        part.text = event.text;
        addOutputText(snapshot);
      } else {
        part.annotations[event.annotation_index] = structuredClone(event.annotation);
      }
      return;
    }
    case 'response.refusal.delta':
    case 'response.refusal.done': {
      const item = at(snapshot.output, event.output_index, 'output');
      if (item.type !== 'message') return;
      const part = at<Item>(item.content, event.content_index, 'content');
      expectType(part, 'refusal');
      if (event.type === 'response.refusal.delta') part.refusal += event.delta;
      else part.refusal = event.refusal;
      return;
    }
    case 'response.reasoning_text.delta':
    case 'response.reasoning_text.done': {
      const item = at(snapshot.output, event.output_index, 'output');
      if (item.type !== 'reasoning') return;
      if (!item.content) throw new AiwireError(`missing content at index ${event.content_index}`);
      const part = at<Item>(item.content, event.content_index, 'content');
      expectType(part, 'reasoning_text');
      if (event.type === 'response.reasoning_text.delta') part.text += event.delta;
      else part.text = event.text;
      return;
    }
    case 'response.reasoning_summary_part.added':
    case 'response.reasoning_summary_part.done': {
      const item = at(snapshot.output, event.output_index, 'output');
      if (item.type !== 'reasoning') return;
      if (event.type === 'response.reasoning_summary_part.added') {
        item.summary.push(structuredClone(event.part));
      } else {
        at(item.summary, event.summary_index, 'content');
        item.summary[event.summary_index] = structuredClone(event.part);
      }
      return;
    }
    case 'response.reasoning_summary_text.delta':
    case 'response.reasoning_summary_text.done': {
      const item = at(snapshot.output, event.output_index, 'output');
      if (item.type !== 'reasoning') return;
      const part = at<Item>(item.summary, event.summary_index, 'content');
      if (event.type === 'response.reasoning_summary_text.delta') part.text += event.delta;
      else part.text = event.text;
      return;
    }
    default:
      throw new AiwireError(`Unhandled response stream event: ${JSON.stringify(event)}`);
  }
}
