// Type-level tests of openai-node's public type names that the generator ties to spec schemas through
// TYPE_ALIASES (scripts/generate/openai-names.mjs), used the way application code uses them. Checked by
// `npm run typecheck` (tsc --noEmit, strict); nothing runs. `@ts-expect-error` lines must fail to compile.
import type {
  AudioModel,
  BatchUsage,
  ChatCompletionAudioParam,
  ChatCompletionModality,
  ChatCompletionStoreMessage,
  ChatModel,
  CompletionChoice,
  EmbeddingModel,
  FileChunkingStrategyParam,
  FilePurpose,
  ImageModel,
  ModerationModel,
  OpenAI,
  TranscriptionCreateResponse,
  TranscriptionVerbose,
} from '../../src/index.js';
import type { TextContentBlockParam } from '../../src/providers/openai/resources/beta/threads/messages.js';
import type { RunStatus } from '../../src/providers/openai/resources/beta/threads/runs.js';
import type { SupervisedMethod } from '../../src/providers/openai/resources/fine-tuning/methods.js';
import type { StringCheckGrader } from '../../src/providers/openai/resources/graders.js';
import type {
  ConversationItemCreateEvent,
  RealtimeErrorEvent,
} from '../../src/providers/openai/resources/realtime.js';
import type {
  FunctionShellTool,
  ResponseFunctionToolCall,
  ResponseIncludable,
  ResponseInput,
  ResponseInputContent,
  ResponseInputItem,
  ResponseInputText,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseOutputText,
  ResponseStatus,
  ResponseTextConfig,
  ToolChoiceMcp,
} from '../../src/providers/openai/resources/responses.js';

declare const client: OpenAI;

// Responses: a conversation built as ResponseInputItem[] and sent as `input`.
const text: ResponseInputText = { type: 'input_text', text: 'What is in this image?' };
const parts: ResponseInputContent[] = [
  text,
  { type: 'input_image', detail: 'auto', image_url: 'https://x/y.png' },
];
const history: ResponseInputItem[] = [
  { role: 'developer', content: 'You are terse.' },
  { role: 'user', content: parts },
  { type: 'function_call_output', call_id: 'call_1', output: '{"ok":true}' },
];
const input: ResponseInput = history;
const include: ResponseIncludable[] = ['file_search_call.results'];
const textConfig: ResponseTextConfig = {
  format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true },
};
export async function responses() {
  const res = await client.responses.create({ model: 'gpt-4.1', input, include, text: textConfig });
  const status: ResponseStatus | undefined = res.status;
  const items: ResponseOutputItem[] = res.output;
  for (const item of items) {
    if (item.type === 'message') {
      const message: ResponseOutputMessage = item;
      for (const c of message.content) if (c.type === 'output_text') (c satisfies ResponseOutputText).text;
    }
    if (item.type === 'function_call') {
      const call: ResponseFunctionToolCall = item;
      history.push(call, { type: 'function_call_output', call_id: call.call_id, output: 'done' });
    }
  }
  return status;
}
export const shell: FunctionShellTool = { type: 'shell' };
export const mcpChoice: ToolChoiceMcp = { type: 'mcp', server_label: 'deepwiki' };
// @ts-expect-error not a status of a response
export const badStatus: ResponseStatus = 'running';

// Files, batches, vector stores: enums and objects of the spec.
const purpose: FilePurpose = 'fine-tune';
// @ts-expect-error not a purpose the API accepts
export const badPurpose: FilePurpose = 'anything';
declare const file: File;
export const uploaded = client.files.create({ file, purpose });
export async function batchUsage(): Promise<BatchUsage | undefined> {
  return (await client.batches.retrieve('batch_1')).usage;
}
const chunking: FileChunkingStrategyParam = {
  type: 'static',
  static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
};
export const store = client.vectorStores.create({ name: 'docs', chunking_strategy: chunking });

// Model ids as literal unions (openai-node's ChatModel, EmbeddingModel, ...).
const chatModel: ChatModel = 'gpt-4o';
const embeddingModel: EmbeddingModel = 'text-embedding-3-small';
export const imageModel: ImageModel = 'gpt-image-1';
export const audioModel: AudioModel = 'whisper-1';
export const moderationModel: ModerationModel = 'omni-moderation-latest';
// @ts-expect-error a model id outside the spec's enum
export const badModel: EmbeddingModel = 'text-embedding-4-huge';
export const embedding = client.embeddings.create({ model: embeddingModel, input: 'hi' });

// Chat: audio output, modalities, stored messages; legacy completions.
const modalities: ChatCompletionModality[] = ['text', 'audio'];
const audio: ChatCompletionAudioParam = { voice: 'alloy', format: 'mp3' };
export const chat = client.chat.completions.create({
  model: chatModel,
  messages: [{ role: 'user', content: 'hi' }],
  modalities,
  audio,
});
export async function storedMessages(): Promise<ChatCompletionStoreMessage[]> {
  const out: ChatCompletionStoreMessage[] = [];
  for await (const m of client.chat.completions.messages.list('chatcmpl_1')) out.push(m);
  return out;
}
export async function firstChoice(): Promise<CompletionChoice | undefined> {
  return (await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'hi' })).choices[0];
}

// Audio: the transcription union.
export function transcriptText(t: TranscriptionCreateResponse): string {
  return t.text;
}
export const verboseSegments = (t: TranscriptionVerbose) => t.segments?.map((s) => s.text);

// Fine-tuning methods and graders (resources without operations in openai-node).
const grader: StringCheckGrader = {
  type: 'string_check',
  name: 'exact',
  input: '{{sample.output_text}}',
  reference: '{{item.answer}}',
  operation: 'eq',
};
const method: SupervisedMethod = { hyperparameters: { n_epochs: 3 } };
export const job = client.fineTuning.jobs.create({
  model: 'gpt-4o-mini',
  training_file: 'file-1',
  method: { type: 'supervised', supervised: method },
});
export const graderCheck = client.fineTuning.alpha.graders.validate({ grader });

// Assistants (beta) threads and runs; realtime events.
const content: TextContentBlockParam[] = [{ type: 'text', text: 'hi' }];
export const threadMessage = client.beta.threads.messages.create('thread_1', { role: 'user', content });
export const isDone = (s: RunStatus) => s === 'completed' || s === 'failed';
export const itemCreate: ConversationItemCreateEvent = {
  type: 'conversation.item.create',
  item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
};
export const errorCode = (e: RealtimeErrorEvent) => e.error.code;
